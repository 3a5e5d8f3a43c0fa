"""Issued files: PDF pages for a person to look at, receipts, tampering, the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from tansuan.cli import app
from tansuan.errors import ConfigError
from tansuan.ledger.log import Ledger
from tansuan.ledger.verify import verify_receipt
from tansuan.reports import formats
from tansuan.reports.api import issue_report
from tansuan.reports.receipt import MARKER, resolve, sidecar_path
from tansuan.settings import get_settings
from tansuan.site.model import SiteModel
from tansuan.store import Store
from tests.reports.conftest import plant_store


def _pages(pdf: Path, out_dir: Path, prefix: str) -> list[Path]:
    """Render every page to PNG with poppler's pdftoppm (installed by .ci/run)."""
    for old in out_dir.glob(f"{prefix}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "70", "-png", str(pdf), str(out_dir / prefix)], check=True)
    return sorted(out_dir.glob(f"{prefix}-*.png"))


def _text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout


@pytest.mark.parametrize(
    ("kind", "lang", "month", "title"),
    [
        ("annual", "zh", None, "2024年度温室气体排放报告"),
        ("annual", "en", None, "Greenhouse-gas emission report 2024"),
        ("inventory", "zh", None, "温室气体清单"),
        ("energy", "zh", 3, "能源消耗报告"),
    ],
)
def test_pdf_renders_with_cjk_text_and_pages_for_review(
    plant: Store,
    model: SiteModel,
    ledger: Ledger,
    output_dir: Path,
    kind: str,
    lang: str,
    month: int | None,
    title: str,
) -> None:
    issued = issue_report(plant, model, ledger, kind, "plant", 2024, month, "pdf", lang)
    pdf = output_dir / f"{kind}-{lang}.pdf"
    written = issued.write(pdf)
    assert written == [pdf]  # the receipt is inside (an incremental update)
    assert pdf.read_bytes().startswith(b"%PDF-")
    receipt, content, findings = resolve(pdf)
    assert findings == [] and verify_receipt(receipt, document=content).ok
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True)
    assert "Producer:" in info.stdout and "tansuan" in info.stdout  # the update is read
    text = _text(pdf)
    # CJK glyphs came out as text (a missing font gives boxes pdftotext cannot map)
    assert title in text
    assert "示例热电有限公司" in text
    if kind == "annual":
        assert "238,019.100" in text  # coal, year (test_report_numbers docstring)
        assert ("附录" if lang == "zh" else "Appendix") in text
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True)
    assert "Noto-Sans-CJK-SC" in fonts.stdout  # the stylesheet's font, embedded
    pages = _pages(pdf, output_dir, f"{kind}-{lang}")
    assert len(pages) >= 2
    assert all(page.stat().st_size > 5_000 for page in pages)  # not blank


def test_issued_html_carries_its_receipt_and_edits_fail(
    plant: Store, model: SiteModel, ledger: Ledger, tmp_path: Path
) -> None:
    issued = issue_report(plant, model, ledger, "annual", "plant", 2024, None, "html", "zh")
    path = tmp_path / "annual.html"
    assert issued.write(path) == [path]
    receipt, content, findings = resolve(path)
    assert findings == []
    assert verify_receipt(receipt, document=content).ok
    payload = json.loads(__import__("base64").b64decode(receipt["leaf_data"]))["payload"]
    assert payload["kind"] == "annual" and payload["format"] == "html"
    assert payload["totals"]["total_co2e_g"] == issued_total(plant)
    text = path.read_text("utf-8")
    assert text.count(MARKER) == 1 and text.endswith("</html>\n")
    # change a number in the report body
    path.write_text(text.replace("238,019.100", "238,018.100", 1), "utf-8")
    receipt, content, findings = resolve(path)
    outcome = verify_receipt(receipt, document=content)
    assert [f.code for f in outcome.findings] == ["document_mismatch"]
    # change the visible receipt block instead
    path.write_text(text.replace("叶子哈希 / leaf hash", "叶子 / leaf", 1), "utf-8")
    _, _, findings = resolve(path)
    assert [code for code, _ in findings] == ["document_mismatch"]


def issued_total(store: Store) -> int:
    from tansuan.accounting import results

    with store.read() as conn:
        lines = results.current_lines(conn, "plant", [f"2024-{m:02d}" for m in range(1, 13)])
    return sum(int(ln["co2e_g"]) for ln in lines if ln["scope"] != "2-market")


@pytest.mark.parametrize("fmt", ["xlsx", "pdf"])
def test_a_tampered_file_fails(
    plant: Store, model: SiteModel, ledger: Ledger, tmp_path: Path, fmt: str
) -> None:
    issued = issue_report(plant, model, ledger, "inventory", "plant", 2024, None, fmt, "en")
    path = tmp_path / f"inventory.{fmt}"
    assert issued.write(path) == [path]  # the receipt is inside every format
    assert not sidecar_path(path).exists()
    receipt, content, _ = resolve(path)
    if fmt == "xlsx":  # the workbook as written, its ZIP comment (the receipt) emptied
        assert content[:-2] == issued.document[: len(content) - 2]
        assert content.endswith(b"\x00\x00") and len(content) < len(issued.document)
        assert openpyxl.load_workbook(path).sheetnames[0] == "report"
    else:
        assert content == issued.document[: len(content)]
    assert verify_receipt(receipt, document=content).ok
    original = path.read_bytes()
    data = bytearray(original)
    data[len(content) // 2] ^= 0x01  # inside the logged content
    path.write_bytes(bytes(data))
    receipt, content, findings = resolve(path)
    codes = [f.code for f in verify_receipt(receipt, document=content).findings]
    assert codes + [code for code, _ in findings] == ["document_mismatch"]
    # an edit of the receipt's place (the PDF's update, the XLSX's ZIP comment) fails too
    if fmt == "pdf":
        path.write_bytes(original.replace(b"/Producer (tansuan", b"/Producer (TANSUAN"))
    else:
        path.write_bytes(original.replace(b'"leaf_index"', b'"leaf_index" '))
    receipt, content, findings = resolve(path)
    assert verify_receipt(receipt, document=content).ok
    assert [code for code, _ in findings] == ["document_mismatch"]


def test_cli_issues_then_verify_checks_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    """End to end on SQLite and PostgreSQL: tansuan report … then tansuan verify --report."""
    plant_store(db_url).close()
    monkeypatch.setenv("TANSUAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TANSUAN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        out = tmp_path / "annual.pdf"
        args = ["report", "annual", "--site", "plant", "--year", "2024", "--format", "pdf"]
        result = runner.invoke(app, [*args, "--out", str(out), "--lang", "en"])
        assert result.exit_code == 0, result.output
        assert out.exists() and not sidecar_path(out).exists()
        result = runner.invoke(app, ["verify", "--report", str(out)])
        assert result.exit_code == 0, result.output
        pub = tmp_path / "var" / "ledger" / "ed25519.pub"
        result = runner.invoke(app, ["verify", "--report", str(out), "--public-key", str(pub)])
        assert result.exit_code == 0, result.output
        out.write_bytes(out.read_bytes() + b"\n")
        result = runner.invoke(app, ["verify", "--report", str(out)])
        assert result.exit_code == 1
        assert "document_mismatch" in result.output or "文件与回执不符" in result.output
        html = tmp_path / "energy.html"
        result = runner.invoke(
            app, ["report", "energy", "--site", "plant", "--year", "2024", "--month", "3",
                  "--format", "html", "--out", str(html)],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert runner.invoke(app, ["verify", "--report", str(html)]).exit_code == 0
        result = runner.invoke(
            app, ["report", "annual", "--site", "plant", "--year", "2019", "--out", str(html)]
        )
        assert result.exit_code == 1 and "tansuan account" in result.output
        result = runner.invoke(app, ["verify", "--report", str(tmp_path / "nothing.pdf")])
        assert result.exit_code == 2
    finally:
        get_settings.cache_clear()


def test_missing_cjk_font_names_the_debian_package(monkeypatch: pytest.MonkeyPatch) -> None:
    """The one fault faked: an installation without fonts-noto-cjk (fc-list finds nothing)."""
    formats.require_cjk_font.cache_clear()
    monkeypatch.setattr(shutil, "which", lambda name: None)
    try:
        with pytest.raises(ConfigError, match="fonts-noto-cjk"):
            formats.require_cjk_font()
    finally:
        monkeypatch.undo()
        formats.require_cjk_font.cache_clear()


def test_long_tables_print_as_listings_in_the_pdf_only(
    plant: Store, model: SiteModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above LISTING_ROWS a table is one text line a row in the PDF; HTML keeps the table."""
    from tansuan.reports.api import build

    report = build(plant, model, "annual", "plant", 2024, lang="en")
    evidence = report.table("evidence")
    monkeypatch.setattr(formats, "LISTING_ROWS", len(evidence.rows) - 1)
    printed = formats.html_content(report, "pdf")
    assert '<div class="listing" data-table="evidence">' in printed
    first = " │ ".join(evidence.shown()[0])
    assert f"<p>{first}</p>" in printed
    assert '<table class="" data-table="summary">' in printed  # short tables stay tables
    browser = formats.html_content(report, "html")
    assert 'class="listing"' not in browser
    assert 'data-table="evidence"' in browser
