"""Every number in a report equals the accounting result it renders.

Hand calculations (the plant of tests/accounting/test_engine.py, year 2024):

* coal: 11 months × 19 602 tCO2 + March 22 397.1 tCO2 (default CC 0.03085 tC/GJ)
  = 238 019.1 tCO2;
* grid: one reading an hour, 100 kWh each, 8 784 h in 2024, less the 100 kWh of the reset
  hour in June = 878 300 kWh = 878.3 MWh; × 0.5703 tCO2/MWh = 500.89449 tCO2 (each month
  rounded once to the gram by accounting).
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook

from tansuan.accounting import results
from tansuan.accounting.rollup import grams_to_tonnes
from tansuan.errors import InputError, NotFound
from tansuan.reports.api import build, render
from tansuan.reports.formats import xlsx
from tansuan.site.model import SiteModel
from tansuan.store import Store

MONTHS = [f"2024-{m:02d}" for m in range(1, 13)]
COAL_YEAR_T = 238_019.1
#: test_engine's grid meter: 8,784 hours × 100 kWh less the reset hour (June) and the
#: year's last hour (12-31 23:00 → 2025-01-01 00:00: no closing reading; a delta covers
#: (previous reading, reading]) = 8,782 × 0.1 MWh.
GRID_YEAR_MWH = 878.2
GRID_FACTOR = 0.5703
OUTPUT_T = 50_000.0


def _current_g(store: Store, source: str | None = None) -> int:
    with store.read() as conn:
        lines = results.current_lines(conn, "plant", MONTHS)
    return sum(
        int(line["co2e_g"])
        for line in lines
        if (source is None or line["source_id"] == source) and line["scope"] != "2-market"
    )


def _sheet(data: bytes, name: str) -> list[tuple[Any, ...]]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    return [tuple(row) for row in book[name].iter_rows(values_only=True)]


@pytest.mark.parametrize("layout", ["power", "generic"])
def test_annual_totals_equal_the_accounting_results(
    plant: Store, model: SiteModel, layout: str
) -> None:
    if layout == "power":  # the layout follows the site's sector
        site = model.organisation.companies[0].sites[0].model_copy(update={"sector": "power"})
        company = model.organisation.companies[0].model_copy(update={"sites": (site,)})
        organisation = model.organisation.model_copy(update={"companies": (company,)})
        model = model.model_copy(update={"organisation": organisation})
    report = build(plant, model, "annual", "plant", 2024, lang="zh", layout=layout)
    total_g = _current_g(plant)
    assert report.totals["total_co2e_g"] == total_g
    assert report.totals["by_source_co2e_g"]["coal"] == _current_g(plant, "coal")
    assert grams_to_tonnes(report.totals["by_source_co2e_g"]["coal"]) == pytest.approx(
        COAL_YEAR_T, abs=1e-6
    )
    assert grams_to_tonnes(report.totals["by_source_co2e_g"]["grid"]) == pytest.approx(
        GRID_YEAR_MWH * GRID_FACTOR, abs=1e-5
    )
    summary = report.table("summary")
    total_row = summary.rows[max(summary.total_rows)]
    assert total_row[-1] == grams_to_tonnes(total_g)
    # the XLSX holds the same values, as numbers
    rows = _sheet(xlsx(report), "summary")
    assert rows[0][0] == summary.title
    assert grams_to_tonnes(total_g) in [row[-1] for row in rows]
    by_source = {row[0]: row[-1] for row in _sheet(xlsx(report), "by-source")[2:]}
    assert by_source["coal"] == grams_to_tonnes(_current_g(plant, "coal"))


def test_monthly_parameters_are_marked_measured_or_default(plant: Store, model: SiteModel) -> None:
    """March has no lab carbon content: 0.03085 tC/GJ, 缺省值; the other months 0.027, 实测值."""
    report = build(plant, model, "annual", "plant", 2024, lang="zh")
    table = report.table("src-coal")
    labels = [c.label for c in table.columns]
    cc = next(i for i, label in enumerate(labels) if label == "单位热值含碳量 [tC/GJ]")
    months = {row[0]: row for row in table.rows}
    assert months["2024年3月"][cc] == 0.03085 and months["2024年3月"][cc + 1] == "缺省值"
    assert months["2024年1月"][cc] == 0.027 and months["2024年1月"][cc + 1] == "实测值"
    oxidation = next(i for i, label in enumerate(labels) if label == "碳氧化率")
    assert months["2024年5月"][oxidation + 1] == "缺省值"
    year = table.rows[max(table.total_rows)]
    assert year[-2] == pytest.approx(COAL_YEAR_T, abs=1e-6)
    fuel = next(i for i, label in enumerate(labels) if label == "消耗量 [t]")
    assert year[fuel] == 120_000.0  # 12 × 10 000 t


def test_purchased_electricity_and_production(plant: Store, model: SiteModel) -> None:
    report = build(plant, model, "annual", "plant", 2024, lang="en")
    table = report.table("purchased")
    assert table.rows[0][-1] == pytest.approx(GRID_YEAR_MWH, abs=1e-9)
    assert table.rows[1][2:14] == [GRID_FACTOR] * 12
    assert table.rows[-1][-1] == grams_to_tonnes(_current_g(plant, "grid"))
    production = report.table("production")
    year = production.rows[max(production.total_rows)]
    # output 12 × 50 000 t; intensity = total / output
    assert year[1] == pytest.approx(600_000.0)
    assert year[4] == grams_to_tonnes(_current_g(plant))
    assert year[5] == pytest.approx(grams_to_tonnes(_current_g(plant)) / 600_000.0)


def test_quality_statement_and_evidence_table(plant: Store, model: SiteModel) -> None:
    report = build(plant, model, "annual", "plant", 2024, lang="en")
    quality = report.table("quality")
    flagged = {(row[0], row[1]): row for row in quality.rows}
    note = "no measured carbon content per unit of heat, the guideline default is used"
    assert note in str(flagged[("coal", "2024-03")][5])
    # August: 72 of 744 hours missing → coverage 672/744, grade B
    assert flagged[("grid", "2024-08")][2] == "B"
    assert flagged[("grid", "2024-08")][3] == pytest.approx(672 / 744 * 100)
    evidence = report.table("evidence")
    march = [row for row in evidence.rows if row[0] == "2024-03"]
    items = {(row[1], row[2]): row for row in march}
    assert items[("coal", "Fuel consumed")][5] == "MAN"
    assert "coal-use-03" in str(items[("coal", "Fuel consumed")][6])
    ncv = items[("coal", "Net calorific value")]
    assert ncv[5] == "LAB" and "coal-ncv-03" in str(ncv[6])
    # a default needs no monthly evidence
    assert ("coal", "Carbon content per unit of heat") not in items
    assert items[("grid", "Purchased electricity")][5] == "TEL"
    assert "(744/744)" in str(items[("grid", "Purchased electricity")][6])
    assert items[("—", "output")][3] == OUTPUT_T
    # due 40 natural days after 2024-03-31
    assert items[("coal", "Fuel consumed")][7] == "2024-05-10"


def test_trace_appendix_names_every_source_month(plant: Store, model: SiteModel) -> None:
    report = build(plant, model, "annual", "plant", 2024, lang="en")
    trace = report.table("trace")
    assert len(trace.rows) == 24  # 2 sources × 12 months
    march = next(row for row in trace.rows if row[0] == "coal" and row[1] == "2024-03")
    assert march[3] == pytest.approx(22_397.1, abs=1e-6)
    assert "fuel.mee_power.raw_coal.carbon_per_heat.2022" in str(march[6])
    assert "coal-use-03" in str(march[5])
    sources = {row[0]: row for row in report.table("trace-sources").rows}
    assert "0.03085" in str(sources["fuel.mee_power.raw_coal.carbon_per_heat.2022"][2])
    assert "发电设施" in str(sources["fuel.mee_power.raw_coal.carbon_per_heat.2022"][5])
    assert sum(row[3] for row in trace.rows) == pytest.approx(
        grams_to_tonnes(_current_g(plant)), abs=1e-6
    )


def test_inventory_scopes_and_gwp(plant: Store, model: SiteModel) -> None:
    report = build(plant, model, "inventory", "plant", 2024, lang="en")
    assert report.totals["scope1_co2e_g"] == _current_g(plant, "coal")
    assert report.totals["scope2_location_co2e_g"] == _current_g(plant, "grid")
    assert report.totals["scope2_market_co2e_g"] is None  # no contractual instruments
    assert report.totals["total_co2e_g"] == _current_g(plant)
    scope1 = report.table("scope1")
    assert scope1.rows[0][1] == "CO2"
    assert scope1.rows[0][3] == grams_to_tonnes(_current_g(plant, "coal"))
    gwp = report.table("gwp")
    assert [row[:3] for row in gwp.rows] == [["AR5", "CO2", "1"]]
    nodes = {row[0]: row[1] for row in report.table("by-area").rows}
    assert nodes["grp/co/plant"] == grams_to_tonnes(_current_g(plant))
    assert nodes["grp/co/plant/boiler-house"] == grams_to_tonnes(_current_g(plant, "coal"))


def test_energy_month_against_the_budget(plant: Store, model: SiteModel) -> None:
    """March 2024, GB/T 2589-2020 calorific-equivalent coefficients.

    coal 10 000 t × 0.7143 kgce/kg = 7 143 tce; electricity 744 h × 100 kWh = 74 400 kWh
    × 0.1229 kgce/kWh = 9 143.76 kgce = 9.14376 tce; March = 7 152.14376 tce;
    intensity / 50 000 t = 0.1430428752 tce/t.
    Year to date: coal 3 × 7 143 = 21 429 tce; electricity (74 400 + 69 600 (29 days of
    2024's February) + 74 400) kWh × 0.1229 = 26.84136 tce → 21 455.84136 tce.
    Budget 100 000 tce × 91/366 days = 24 863.387978 tce pro rata; 21.45584136 % used.
    """
    report = build(plant, model, "energy", "plant", 2024, month=3, lang="en")
    assert report.totals["energy_tce"] == pytest.approx(7_152.14376, rel=1e-12)
    assert report.totals["ytd_tce"] == pytest.approx(21_455.84136, rel=1e-12)
    carriers = {row[0]: row for row in report.table("energy-carriers").rows}
    assert carriers["raw coal"][4] == pytest.approx(7_143.0, rel=1e-12)
    assert carriers["electricity"][4] == pytest.approx(9.14376, rel=1e-12)
    assert carriers["electricity"][6] is None  # no equal-value coefficient for 2024
    monthly = {row[0]: row for row in report.table("energy-monthly").rows}
    march = monthly["2024-03"]
    assert march[4] == pytest.approx(0.1430428752, rel=1e-9)
    assert march[5] == pytest.approx(21_455.84136, rel=1e-12)
    assert march[6] == pytest.approx(100_000 * 91 / 366, rel=1e-12)
    assert march[7] == pytest.approx(21.45584136, rel=1e-9)
    assert list(monthly) == ["2024-01", "2024-02", "2024-03"]


def test_no_results_and_bad_input_are_clear_errors(plant: Store, model: SiteModel) -> None:
    with pytest.raises(NotFound, match="tansuan account"):
        build(plant, model, "annual", "plant", 2023)
    with pytest.raises(NotFound, match="no site 'elsewhere'"):
        build(plant, model, "annual", "elsewhere", 2024)
    with pytest.raises(InputError, match="unknown report"):
        build(plant, model, "monthly", "plant", 2024)
    with pytest.raises(InputError, match="month must be 1–12"):
        build(plant, model, "energy", "plant", 2024, month=13)
    with pytest.raises(InputError, match="unsupported language"):
        build(plant, model, "annual", "plant", 2024, lang="fr")
    with pytest.raises(InputError, match="unknown format"):
        render("annual", "plant", 2024, None, "docx", store=plant, model=model)


def test_render_for_the_dashboard_is_a_draft(plant: Store, model: SiteModel) -> None:
    html = render("annual", "plant", 2024, None, "html", "en", store=plant, model=model)
    text = html.decode("utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "Draft: not logged in the ledger" in text
    assert "238,019.100" in text
    book = render("inventory", "plant", 2024, None, "xlsx", "zh", store=plant, model=model)
    assert load_workbook(io.BytesIO(book), read_only=True).sheetnames[:2] == ["report", "scopes"]


def test_generic_layout_tables_2_and_3(plant: Store, model: SiteModel) -> None:
    """附表2: 12 × 10 000 t coal, 878.3 MWh; 附表3: CC measured 0.027 and default 0.03085."""
    report = build(plant, model, "annual", "plant", 2024, lang="en", layout="generic")
    activity = {row[0]: row for row in report.table("activity").rows}
    assert activity["coal"][1:3] == ["raw coal", "Fuel consumed"]
    assert activity["coal"][3] == 120_000.0 and activity["coal"][5] == "coal-use"
    assert activity["grid"][3] == pytest.approx(GRID_YEAR_MWH, abs=1e-9)
    assert activity["grid"][5] == "point grid.energy"
    factors = {(row[0], row[1]): row for row in report.table("factors").rows}
    cc = factors[("coal", "Carbon content per unit of heat")]
    assert cc[2] == "0.027 … 0.03085" and cc[4] == "default / measured"
    assert factors[("grid", "Grid emission factor")][2] == "0.5703"
    assert ("coal", "gwp CO2") not in factors  # constants are cited in Appendix B only


def test_annual_layout_for_one_month(plant: Store, model: SiteModel) -> None:
    """March alone: coal 22 397.1 tCO2 (default CC) + grid 74.4 MWh × 0.5703 = 42.43032 t."""
    report = build(plant, model, "annual", "plant", 2024, month=3, lang="zh")
    assert report.title == "2024年3月温室气体排放报告（月度）"
    assert report.totals["by_source_co2e_g"]["coal"] == 22_397_100_000
    assert grams_to_tonnes(report.totals["by_source_co2e_g"]["grid"]) == pytest.approx(
        42.43032, abs=1e-6
    )
    assert [row[0] for row in report.table("src-coal").rows] == ["2024年3月", "合计"]
