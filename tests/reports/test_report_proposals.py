"""Pending proposals are listed in every report's data-quality section (annual, inventory,
energy), beside the filed figures the report uses.

Hand calculation (the plant of tests/reports/conftest.py): March 2024 is filed with the
coal boiler on the guideline default carbon content: 22,397.1 tCO2. The lab's March
carbon content (0.027 tC/GJ) arrives late; the recalculation is 10,000 t × 20 GJ/t ×
0.027 tC/GJ × 0.99 × 44/12 = 19,602 tCO2, proposed as v2: difference −2,795.1 tCO2.
April is filed too, and a recalculation of the grid with no figure (no result lines) is
proposed: it shows "—", never 0.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from openpyxl import load_workbook

from tansuan.accounting import filing, results
from tansuan.accounting.engine import Accountant
from tansuan.accounting.periods import parse_period
from tansuan.accounting.results import ResultSet
from tansuan.ingest.manual import import_table
from tansuan.ledger.log import Ledger
from tansuan.reports.api import build
from tansuan.reports.formats import html_content, xlsx
from tansuan.site.model import SiteModel
from tansuan.store import Store
from tansuan.store.users import Principal
from tests.accounting.test_engine import _manual_rows
from tests.reports.conftest import plant_store

LIN = Principal(1, "lin", "Lin", "grp", "carbon_accountant", frozenset({"read"}))
FILED_MARCH_T = 22_397.1
PROPOSED_MARCH_T = 19_602.0
DIFFERENCE_T = -2_795.1


@pytest.fixture(scope="module")
def proposed(tmp_path_factory: pytest.TempPathFactory, model: SiteModel) -> Iterator[Store]:
    store = plant_store(f"sqlite:///{tmp_path_factory.mktemp('proposals') / 'plant.db'}")
    ledger = Ledger(Ed25519PrivateKey.generate())
    with store.write() as conn:
        filing.file(conn, ledger, "plant", ["2024-03", "2024-04"], LIN, "Q1/Q2 filing")
    rows = _manual_rows("coal-cc", "tC/GJ", 0.027, [3])
    assert not import_table(store, rows, kind="lab").errors
    hooks = [filing.proposal_hook(ledger, LIN)]
    Accountant(store, model, hooks=hooks).run("plant", parse_period("2024-03"), sources=["coal"])
    empty = ResultSet(
        site_id="plant", source_id="grid", period="2024-04", method="electricity", lines=(),
        inputs={"electricity_mwh": None}, trace={}, grade="D", coverage=0.0,
        substituted_share=0.0,
    )  # fmt: skip
    with store.write() as conn:
        results.save(conn, empty)
    yield store
    store.close()


def _check(rows: list[list[object]]) -> None:
    march, april = rows
    assert march[:3] == ["coal", "2024-03", "v1 → v2"]
    assert march[3] == pytest.approx(FILED_MARCH_T, abs=1e-6)
    assert march[4] == pytest.approx(PROPOSED_MARCH_T, abs=1e-6)
    assert march[5] == pytest.approx(DIFFERENCE_T, abs=1e-6)
    assert march[6] == "lin"
    assert str(march[7]).startswith("inputs changed: ")
    assert april[:3] == ["grid", "2024-04", "v1 → v2"]
    assert (april[4], april[5], april[6]) == (None, None, "—")


def test_every_report_lists_pending_proposals(proposed: Store, model: SiteModel) -> None:
    annual = build(proposed, model, "annual", "plant", 2024, lang="en")
    table = annual.table("proposals")
    _check(table.rows)
    assert table.columns[4].show(None) == "—"
    quality = next(s for s in annual.sections if any(t.id == "proposals" for t in s.tables))
    assert any(t.id == "quality" for t in quality.tables)  # the data-quality section
    assert any("2 recalculation(s) of filed months" in p for p in quality.paragraphs)
    _check(build(proposed, model, "inventory", "plant", 2024, lang="en").table("proposals").rows)
    energy = build(proposed, model, "energy", "plant", 2024, month=4, lang="zh")
    _check(energy.table("proposals").rows)  # the energy report runs January … April
    assert any("待决定的重算提议" in s.title for s in energy.sections)


def test_the_report_renders_the_filed_figures_and_the_dash(
    proposed: Store, model: SiteModel
) -> None:
    """The inventory still counts March at the filed 22,397.1 t: coal's year stays
    11 × 19,602 + 22,397.1 = 238,019.1 tCO2 = 238,019,100,000 g; the HTML lists the
    proposal (19,602.000 t, −2,795.100 t) and shows April's missing figure as "—"."""
    report = build(proposed, model, "inventory", "plant", 2024, lang="en")
    assert report.totals["scope1_co2e_g"] == 238_019_100_000
    html = html_content(report)
    assert "Pending proposals" in html
    assert "19,602.000" in html and "-2,795.100" in html
    row = html[html.index("2024-04", html.index("Pending proposals")) :]
    assert "—" in row[: row.index("</tr>")]
    book = load_workbook(io.BytesIO(xlsx(report)), read_only=True)
    sheet = [tuple(r) for r in book["proposals"].iter_rows(values_only=True)]
    assert sheet[0][0] == "Pending proposals"
    march, april = sheet[2], sheet[3]
    assert march[:3] == ("coal", "2024-03", "v1 → v2")
    assert march[5] == pytest.approx(DIFFERENCE_T, abs=1e-6)
    assert (april[4], april[5]) == (None, None)  # an empty cell, not 0


def test_no_pending_proposal_says_so(plant: Store, model: SiteModel) -> None:
    report = build(plant, model, "inventory", "plant", 2024, lang="en")
    section = next(s for s in report.sections if s.title == "Data quality: pending proposals")
    assert section.paragraphs == ["No recalculation of a filed month is pending."]
