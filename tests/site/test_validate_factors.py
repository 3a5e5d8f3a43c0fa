"""``tansuan site validate`` checks the factor chain: sector, series, category, GWP set,
parameter values and whether every fuel parameter can be found (errors), and parameters
read only from measured data with no fallback (warnings).

Facts used (src/tansuan/data): fuels.csv has raw_coal rows in series mee_power only
(oxidation 99 %, carbon per heat) and no raw_coal NCV anywhere; natural_gas has NCV,
carbon per heat and oxidation in mee_2013 and mee_power; sectors.csv knows power, steel,
cement, aluminium, chemicals, machinery, general; gwp.csv knows SAR, AR4, AR5, AR6.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from tansuan.accounting.chain import check_model
from tansuan.cli import app
from tansuan.domain.catalog import shipped_catalog
from tansuan.errors import Issue
from tansuan.site.model import SiteModel
from tansuan.site.validate import check

BASE = "organisation.companies[0].sites[0]"
DOC: dict[str, Any] = {
    "version": 1,
    "organisation": {
        "id": "grp",
        "companies": [
            {
                "id": "co",
                "sites": [
                    {
                        "id": "works",
                        "sector": "power",
                        "gwp": "AR5",
                        "series": [
                            {"id": "coal-use", "kind": "fuel_consumption", "unit": "t"},
                            {"id": "coal-ncv", "kind": "lab_ncv", "unit": "GJ/t"},
                            {"id": "gas-use", "kind": "fuel_consumption", "unit": "wNm3"},
                        ],
                        "sources": [
                            {
                                "id": "coal",
                                "method": "combustion",
                                "fuel": "raw_coal",
                                "activity": [{"series": "coal-use"}],
                                "parameters": {"ncv": {"series": "coal-ncv"}},
                                "ncv": "20.5 GJ/t",
                                "oxidation": "98 %",
                            },
                            {
                                "id": "gas",
                                "method": "combustion",
                                "fuel": "natural_gas",
                                "activity": [{"series": "gas-use"}],
                                "ch4_n2o": True,
                            },
                        ],
                    }
                ],
            }
        ],
    },
}


def _issues(doc: dict[str, Any]) -> tuple[list[Issue], list[Issue]]:
    model, schema = check(doc)
    assert schema == [] and model is not None
    return check_model(model, shipped_catalog())


def _doc() -> dict[str, Any]:
    return copy.deepcopy(DOC)


def _site(doc: dict[str, Any]) -> dict[str, Any]:
    site: dict[str, Any] = doc["organisation"]["companies"][0]["sites"][0]
    return site


def test_a_complete_chain_has_no_issue() -> None:
    """Raw coal: NCV measured with a site-model fallback, carbon content from the power
    guideline (sector power), oxidation 98 % in the site model; gas: every default in
    mee_power, CH4/N2O from energy_industries."""
    assert _issues(_doc()) == ([], [])


def test_unknown_names_are_errors() -> None:
    """An unknown sector or GWP set is refused by the schema (nothing can run with it);
    an unknown factor series or CH4/N2O category by the chain check."""
    doc = _doc()
    site = _site(doc)
    site["sector"] = "fishing"
    site["gwp"] = "AR7"
    model, schema = check(doc)
    assert model is None
    by_path = {issue.path: issue.detail for issue in schema}
    assert "power" in by_path[f"{BASE}.sector"] and "fishing" in by_path[f"{BASE}.sector"]
    assert "AR6" in by_path[f"{BASE}.gwp"]
    doc = _doc()
    site = _site(doc)
    site["sources"][1]["factor_series"] = "mee_1999"
    site["sources"][1]["ch4_n2o_category"] = "households"
    errors, _ = _issues(doc)
    by_code = {issue.code: issue for issue in errors}
    assert by_code["unknown.factor_series"].path == f"{BASE}.sources[1].factor_series"
    assert "mee_power" in by_code["unknown.factor_series"].detail
    assert by_code["unknown.ch4_n2o_category"].path == f"{BASE}.sources[1].ch4_n2o_category"


def test_out_of_range_and_unreadable_values_are_errors() -> None:
    """Oxidation 98 (not '98 %') is 98 as a fraction: out of (0, 1]; 0 is out too; a
    unit that does not exist and a parameter the method does not read are errors."""
    for bad in (98, 0, "1.5", "120 %"):
        doc = _doc()
        _site(doc)["sources"][0]["oxidation"] = bad
        errors, _ = _issues(doc)
        assert [(e.code, e.path) for e in errors] == [
            ("invalid.parameter", f"{BASE}.sources[0].oxidation")
        ], bad
    doc = _doc()
    _site(doc)["sources"][0]["ncv"] = "20 bananas"
    errors, _ = _issues(doc)
    assert [e.code for e in errors] == ["invalid.parameter"]
    doc = _doc()
    _site(doc)["sources"][1]["factor"] = "0.5 tCO2/MWh"
    errors, _ = _issues(doc)
    assert [(e.code, e.path) for e in errors] == [("unused.parameter", f"{BASE}.sources[1].factor")]


def test_a_fuel_with_no_default_in_its_series_and_no_value_is_an_error() -> None:
    """No sector: raw coal's oxidation and carbon content are looked up in mee_2013,
    which has no raw_coal row; the source gives neither → two errors naming the series
    that has one (mee_power)."""
    doc = _doc()
    del _site(doc)["sector"]
    del _site(doc)["sources"][0]["oxidation"]
    errors, _ = _issues(doc)
    found = {(e.code, e.path.rsplit(".", 1)[-1]) for e in errors}
    assert found == {("chain.no_value", "oxidation"), ("chain.no_value", "carbon_content_per_heat")}
    assert all("mee_2013 (catalog)" in e.detail and "mee_power" in e.detail for e in errors)


def test_measured_only_with_no_fallback_is_a_warning() -> None:
    """Raw coal NCV from the lab series only (no site-model NCV, no default anywhere):
    a month without a lab value will fail — a warning, not an error."""
    doc = _doc()
    del _site(doc)["sources"][0]["ncv"]
    errors, warnings = _issues(doc)
    assert errors == []
    assert [(w.code, w.path) for w in warnings] == [
        ("chain.no_fallback", f"{BASE}.sources[0].parameters.ncv")
    ]


def test_cli_reports_errors_and_warnings(tmp_path: Path) -> None:
    """Exit 0 with the warning printed; exit 1 with each error and its path."""
    runner = CliRunner()
    doc = _doc()
    del _site(doc)["sources"][0]["ncv"]
    warned = tmp_path / "warned.yaml"
    warned.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    ok = runner.invoke(app, ["site", "validate", str(warned)])
    assert ok.exit_code == 0, ok.output
    assert "warning" in ok.output and "chain.no_fallback" in ok.output
    _site(doc)["sources"][1]["factor_series"] = "mee_1999"
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(app, ["site", "validate", str(broken)], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "unknown.factor_series" in result.output
    assert f"{BASE}.sources[1].factor_series" in result.output
    _site(doc)["sector"] = "fishing"
    broken.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(app, ["site", "validate", str(broken)], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "unknown sector 'fishing'" in result.output and f"{BASE}.sector" in result.output


def test_cli_refuses_a_grid_region_not_in_the_grid_table(tmp_path: Path) -> None:
    """Issue 18 #18: ``grid_region: mars`` has no row in data/grid.csv (which has east,
    north, …): an error with its path (exit 1); ``east`` passes."""
    runner = CliRunner()
    doc = _doc()
    _site(doc)["grid_region"] = "east"
    good = tmp_path / "east.yaml"
    good.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    ok = runner.invoke(app, ["site", "validate", str(good)])
    assert ok.exit_code == 0, ok.output
    _site(doc)["grid_region"] = "mars"
    bad = tmp_path / "mars.yaml"
    bad.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(app, ["site", "validate", str(bad)], env={"COLUMNS": "300"})
    assert result.exit_code == 1, result.output
    assert "unknown.grid_region" in result.output and f"{BASE}.grid_region" in result.output
    assert "'mars'" in result.output and "east" in result.output


def test_ambiguous_site_values_are_schema_errors() -> None:
    doc = _doc()
    _site(doc)["sources"][0]["parameters"]["oxidation"] = {"value": 0.97}
    model, issues = check(doc)
    assert model is None
    assert any("oxidation is given twice" in issue.detail for issue in issues)
    assert SiteModel.model_validate(DOC)  # the unchanged document is fine


def test_every_chain_field_is_documented() -> None:
    """docs/accounting.md's table of site-model fields names every first-class parameter
    and every chain field (a field added without its documentation fails here)."""
    from tansuan.site.model import PARAMETER_FIELDS, TEXT_FIELDS

    text = (Path(__file__).resolve().parents[2] / "docs" / "accounting.md").read_text("utf-8")
    section = text.split("### Site-model fields of the chain", 1)[1]
    for name in (*PARAMETER_FIELDS, *TEXT_FIELDS, "sector", "gwp", "ch4_n2o"):
        assert f"`{name}`" in section, name


def test_choices_a_method_cannot_read() -> None:
    """A CEMS source reads no factor series and no CH4/N2O category (the run would refuse
    them): errors; ``ch4_n2o: true`` on it is ignored: a warning."""
    doc = _doc()
    _site(doc)["sources"].append(
        {
            "id": "stack",
            "method": "cems",
            "factor_series": "mee_power",
            "ch4_n2o_category": "manufacturing",
        }
    )
    errors, _ = _issues(doc)
    assert {(e.code, e.path) for e in errors} == {
        ("unused.factor_series", f"{BASE}.sources[2].factor_series"),
        ("unused.ch4_n2o_category", f"{BASE}.sources[2].ch4_n2o_category"),
    }
    doc = _doc()
    _site(doc)["sources"].append({"id": "stack", "method": "cems", "ch4_n2o": True})
    errors, warnings = _issues(doc)
    assert errors == []
    assert [(w.code, w.path) for w in warnings] == [
        ("unused.ch4_n2o", f"{BASE}.sources[2].ch4_n2o")
    ]


def test_what_a_fuel_needs_depends_on_what_is_given() -> None:
    """Raw coal with its carbon per tonne and its oxidation given, no sector: the
    formula FC × C_ar × OF × 44/12 needs no NCV and no carbon per heat — no issue. Asking
    for CH4/N2O needs the fuel's energy, hence an NCV, which raw coal has in no series:
    an error on ``ncv``."""
    doc = _doc()
    site = _site(doc)
    del site["sector"]
    site["sources"][0] = {
        "id": "coal",
        "method": "combustion",
        "fuel": "raw_coal",
        "activity": [{"series": "coal-use"}],
        "carbon_content": "0.55 tC/t",
        "oxidation": 0.99,
    }
    del site["sources"][1]
    assert _issues(doc) == ([], [])
    site["sources"][0]["ch4_n2o"] = True
    errors, _ = _issues(doc)
    assert [(e.code, e.path) for e in errors] == [("chain.no_value", f"{BASE}.sources[0].ncv")]
    assert "series with a default for raw_coal: none" in errors[0].detail
