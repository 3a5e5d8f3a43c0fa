"""Every report kind, in both languages, prints inside the page: no clipped column.

The planted plant's figures are small (74 MWh of grid electricity a month); a real site
buys hundreds of thousands of MWh, and its monthly tables (附表 C.4: 12 months, the
item, the unit and the year) are as wide as their widest numbers. So each report is
also printed with every number above 1 scaled by 3 700.123 — 74.4 MWh becomes
275,289.151 MWh, the width of the shipyard's figures in issue 18 — and every word's
bounding box (poppler's ``pdftotext -bbox-layout``) must lie inside its page.
WeasyPrint cuts what overflows at the page edge, so a clipped column shows up as a word
that crosses the right edge ("279." of "279,123.456"), which this test finds.
"""

from __future__ import annotations

import html
import re
import subprocess
from pathlib import Path

import pytest

from tansuan.reports.api import build
from tansuan.reports.formats import render_format
from tansuan.reports.model import Report
from tansuan.site.model import SiteModel
from tansuan.store import Store
from tests.reports.conftest import report_model

#: the factor that makes the plant's figures as wide as a large site's
SCALE = 3700.123
_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)"')
_WORD = re.compile(
    r'<word xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" yMax="([-\d.]+)">(.*?)</word>'
)


def outside_words(pdf: Path) -> list[tuple[int, str, float, float]]:
    """(page, word, xMax, page width) of every word not wholly inside its page box."""
    layout = subprocess.run(
        ["pdftotext", "-bbox-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    bad: list[tuple[int, str, float, float]] = []
    page, width, height = 0, 0.0, 0.0
    for line in layout.splitlines():
        if found := _PAGE.search(line):
            page, width, height = page + 1, float(found[1]), float(found[2])
        elif found := _WORD.search(line):
            x0, y0, x1, y1 = (float(v) for v in found.groups()[:4])
            if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
                bad.append((page, html.unescape(found[5]), x1, width))
    return bad


def _scaled(report: Report) -> Report:
    for table in report.tables():
        for row in table.rows:
            for i, value in enumerate(row):
                if isinstance(value, float) and abs(value) > 1:
                    row[i] = value * SCALE
    return report


def _power_model() -> SiteModel:
    data = report_model()
    data["organisation"]["companies"][0]["sites"][0]["sector"] = "power"
    return SiteModel.model_validate(data)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize(
    ("kind", "sector"),
    [("annual", "power"), ("annual", None), ("inventory", None), ("energy", None)],
)
def test_every_report_prints_inside_the_page(
    plant: Store,
    model: SiteModel,
    output_dir: Path,
    kind: str,
    sector: str | None,
    lang: str,
) -> None:
    site_model = _power_model() if sector == "power" else model
    report = build(plant, site_model, kind, "plant", 2024, None, lang)
    plain = output_dir / f"bounds-{kind}-{sector}-{lang}.pdf"
    plain.write_bytes(render_format(report, "pdf"))
    assert outside_words(plain) == []
    wide = output_dir / f"bounds-{kind}-{sector}-{lang}-scaled.pdf"
    wide.write_bytes(render_format(_scaled(report), "pdf"))
    assert outside_words(wide) == []
    if kind == "annual" and sector == "power":
        text = subprocess.run(
            ["pdftotext", "-layout", str(wide), "-"], check=True, capture_output=True, text=True
        ).stdout
        # 附表 C.4's year column is on the page: 878.200 MWh × 3 700.123 (test plant's
        # grid purchases, tests/reports/test_report_numbers.py), printed whole
        assert f"{878.2 * SCALE:,.3f}" in text
