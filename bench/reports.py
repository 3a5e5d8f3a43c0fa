"""Benchmark: the annual report of a 1,000-point site, end to end, PDF included.

The site is bench/accounting.py's (998 electricity sub-meters in 100 areas, a CEMS
stack, a coal boiler; rollups generated directly); its year is accounted once, then the
report is issued (read results and traces → build → render → log a ledger leaf with its
receipt) repeatedly.

Figures (one JSON line, medians over ``--repeat`` runs):

* ``annual_pdf_s`` / ``annual_html_s`` / ``annual_xlsx_s`` — ``issue_report`` end to end;
* ``build_s`` — reading results and traces and building the report, without rendering;
* ``pdf_pages`` — pages of the PDF;
* ``bare_read_s`` — the bare baseline: read the year's current result lines and sum
  them (the least work any report must do), and the ratio of the PDF run to it;
* ``bare_pdf_s`` — the bare PDF baseline: WeasyPrint printing every cell of the same
  report as one preformatted text block (no tables, no charts), and the ratio;
* ``accounting_s`` — the one accounting run before (not part of the report figure).

Usage: ``python bench/reports.py [--repeat 3]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parent))

import accounting as site_bench  # noqa: E402  (bench/accounting.py: the site generator)
from tansuan.accounting import results  # noqa: E402
from tansuan.accounting.engine import Accountant  # noqa: E402
from tansuan.accounting.periods import parse_period  # noqa: E402
from tansuan.ledger.log import Ledger  # noqa: E402
from tansuan.reports.api import build, issue_report  # noqa: E402
from tansuan.site.model import SiteModel  # noqa: E402
from tansuan.store import Store  # noqa: E402

console = Console(stderr=True)
YEAR = site_bench.YEAR


def bare_read(store: Store) -> float:
    t0 = time.perf_counter()
    months = [f"{YEAR}-{m:02d}" for m in range(1, 13)]
    with store.read() as conn:
        lines = results.current_lines(conn, "big", months)
    total = sum(int(line["co2e_g"]) for line in lines if line["scope"] != "2-market")
    assert total > 0
    return time.perf_counter() - t0


def bare_pdf(report: object) -> float:
    """The least PDF work: WeasyPrint printing every cell of the report as one text block."""
    import html

    from weasyprint import HTML

    from tansuan.reports.model import Report

    assert isinstance(report, Report)
    text = "\n".join(" ".join(row) for table in report.tables() for row in table.shown())
    document = (
        "<html><body style=\"font-family: 'Noto Sans CJK SC'; font-size: 6.5pt\">"
        f'<pre style="white-space: pre-wrap">{html.escape(text)}</pre></body></html>'
    )
    t0 = time.perf_counter()
    HTML(string=document).write_pdf()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        with console.status("loading the 1,000-point site and a year of rollups…"):
            model = SiteModel.model_validate(site_bench.model())
            store.load_model(model)
            site_bench.generate_rollups(store)
            site_bench.manual_data(store)
        with console.status("accounting the year…"):
            t0 = time.perf_counter()
            report = Accountant(store, model).run("big", parse_period(str(YEAR)))
            accounting_s = time.perf_counter() - t0
            assert not report.errors, report.errors[:3]
        ledger = Ledger(Ed25519PrivateKey.generate())
        figures: dict[str, list[float]] = {
            k: [] for k in ("pdf", "html", "xlsx", "build", "bare", "bare_pdf")
        }
        pages = 0
        for i in range(args.repeat):
            console.log(f"run {i + 1}/{args.repeat}")
            t0 = time.perf_counter()
            built = build(store, model, "annual", "big", YEAR, None, "zh")
            figures["build"].append(time.perf_counter() - t0)
            figures["bare_pdf"].append(bare_pdf(built))
            for fmt in ("pdf", "html", "xlsx"):
                t0 = time.perf_counter()
                issued = issue_report(store, model, ledger, "annual", "big", YEAR, None, fmt, "zh")
                figures[fmt].append(time.perf_counter() - t0)
                if fmt == "pdf":
                    pages = _pages(issued.document, Path(tmp))
            figures["bare"].append(bare_read(store))
        store.close()
    med = {k: statistics.median(v) for k, v in figures.items()}
    out = {
        "benchmark": "reports",
        "points": site_bench.METERS + 2,
        "sources": site_bench.AREAS + 2,
        "source_months": 12 * (site_bench.AREAS + 2),
        "repeat": args.repeat,
        "annual_pdf_s": round(med["pdf"], 3),
        "annual_html_s": round(med["html"], 3),
        "annual_xlsx_s": round(med["xlsx"], 3),
        "build_s": round(med["build"], 3),
        "pdf_pages": pages,
        "bare_read_s": round(med["bare"], 4),
        "pdf_vs_bare": round(med["pdf"] / med["bare"], 1),
        "bare_pdf_s": round(med["bare_pdf"], 3),
        "pdf_vs_bare_pdf": round(med["pdf"] / med["bare_pdf"], 2),
        "accounting_s": round(accounting_s, 3),
        "targets": {"annual_pdf_s": 10.0},
    }
    sys.stdout.write(json.dumps(out) + "\n")


def _pages(pdf: bytes, tmp: Path) -> int:
    """Page count from poppler's pdfinfo (installed with poppler-utils)."""
    import subprocess

    path = tmp / "annual.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return int(next(ln.split()[-1] for ln in info.stdout.splitlines() if ln.startswith("Pages:")))


if __name__ == "__main__":
    main()
