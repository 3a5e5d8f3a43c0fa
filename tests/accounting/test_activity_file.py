"""`tansuan calc`: reading an activity-data file into typed inputs, the methods, the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tansuan.accounting.activity_file import calculate, calculate_file
from tansuan.cli import app
from tansuan.domain.scope import Scope
from tansuan.errors import InputError, MissingParameter, UnitError, UnknownFactor


def doc(*sources: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"gwp": "AR5", "year": 2024, "region": "east", **top, "sources": list(sources)}


def test_example_plant_results(examples: Path) -> None:
    """Hand calculations for examples/plant.yaml (year 2024, AR5):

    boiler       10 000 × 0.55 × 0.99 × 44/12                          = 19 965
    gas-furnace  50 × 389.31 × 0.0153 × 0.99 (default OF) × 44/12       = 1 081.0944045
    grid         8 000 MWh × 0.5810                                     = 4 648
    kiln         5 000 × 0.440                                          = 2 200
    reactor      (8 500 − 7 713) × 44/12                                = 2 885.6666667
    switchgear   0.12 × 23 500                                          = 2 820
    generator    120 × 42.652 × 0.0202 × 0.98 × 44/12                   = 371.5091564
    boiler-2     2 000 × 0.60 × 92/98 × 0.93 (default OF) × 44/12       = 3 841.4693878
    heater       1 000 MMBtu × 1.055056 GJ/MMBtu = 1.055056 TJ × 56.1 tCO2/TJ
                 (given) × 1 (OF with a factor per energy)              = 59.1886416
    forklifts    50 m3 × 0.84 t/m3 = 42 t; 42 × 42.652 × 0.0202 × 0.98 × 44/12
                                                                        = 130.028204768
    grid-market  (8 000 − 2 000) MWh × 0.5703 (ETS, 2023–2025)          = 3 421.8
    steam        12 000 GJ × 0.098                                      = 1 176
    fgd          800 × 0.90 × 0.440 × 1.00                              = 316.8
    cement-kiln  1 000 × (0.65 × 44/56 + 0.02 × 44/40)                  = 532.7142857
    stack        see tests/domain/test_cems.py                          = 78.0408043
    chiller      0.05 × 677 + 0.05 × 3 170                              = 192.35
    site-energy  energy only                                            = 0
    """
    expected = {
        "boiler": 19_965.0,
        "gas-furnace": 1081.0944045,
        "grid": 4648.0,
        "kiln": 2200.0,
        "reactor": 2885.6666667,
        "switchgear": 2820.0,
        "generator": 371.5091564,
        "boiler-2": 3841.4693878,
        "heater": 59.1886416,
        "forklifts": 130.028204768,
        "grid-market": 3421.8,
        "steam": 1176.0,
        "fgd": 316.8,
        "cement-kiln": 532.7142857,
        "stack": 78.0408043,
        "chiller": 192.35,
        "site-energy": 0.0,
    }
    calculation = calculate_file(examples / "plant.yaml")
    got = {s.id: s.co2e_t for s in calculation.sources}
    assert got == {k: pytest.approx(v, rel=1e-9, abs=1e-12) for k, v in expected.items()}
    beside = {"grid-market"}  # market-based Scope 2: never in the total
    counted = sum(v for k, v in expected.items() if k not in beside)
    assert calculation.total_co2e_t == pytest.approx(counted, rel=1e-9)


def test_example_plant_totals_by_scope(examples: Path) -> None:
    """examples/plant.yaml has 8 000 MWh of purchased electricity, accounted twice: on the
    location basis (``grid``) and on the market basis (``grid-market``). The GHG Protocol
    Scope 2 Guidance (2015, ch. 4, dual reporting) reports both and adds only the
    location-based figure to the total. By hand, from the file's inputs:

    Scope 2, location-based
        grid   8 000 000 kWh = 8 000 MWh × 0.5810 tCO2/MWh (given)     = 4 648
        steam  12 000 GJ × 0.098 tCO2/GJ (supplier, given)            = 1 176
                                                                 Σ    = 5 824
    Scope 2, market-based (reported beside, not added)
        grid-market  (8 000 − 2 000 certificates at 0) MWh × 0.5703
                     (ETS grid factor 2023–2025, the residual when none is given) = 3 421.8
    Scope 1: the thirteen other emission sources of test_example_plant_results
        19 965 + 1 081.0944045 + 2 200 + 2 885.6666667 + 2 820 + 371.5091564
        + 3 841.4693878 + 59.1886416 + 130.028204768 + 316.8 + 532.7142857
        + 78.0408043 + 192.35                                           = 34 473.8615518
    Total = Scope 1 + Scope 2 location-based = 34 473.8615518 + 5 824 = 40 297.8615518
    (adding the market-based 3 421.8 t as well, as calc did before, would give
    43 719.6615518: the same electricity counted twice).
    site-energy computes energy only: no scope, nothing added.
    """
    calculation = calculate_file(examples / "plant.yaml")
    scope1 = (
        19_965 + 1081.0944045 + 2200 + 2885.6666667 + 2820 + 371.5091564
        + 3841.4693878 + 59.1886416 + 130.028204768 + 316.8 + 532.7142857
        + 78.0408043 + 192.35
    )  # fmt: skip
    location = 8_000 * 0.5810 + 12_000 * 0.098
    market = (8_000 - 2_000) * 0.5703
    assert location == pytest.approx(5824.0, rel=1e-12)
    assert calculation.by_scope_co2e_t == {
        "1": pytest.approx(scope1, rel=1e-9),
        "2-location": pytest.approx(location, rel=1e-12),
        "2-market": pytest.approx(market, rel=1e-12),
    }
    assert calculation.total_co2e_t == pytest.approx(scope1 + location, rel=1e-9)
    assert calculation.total_co2e_t == pytest.approx(40_297.8615518, rel=1e-9)
    scopes = {s.id: s.scope for s in calculation.sources}
    assert scopes["grid"] == Scope.LOCATION and scopes["steam"] == Scope.LOCATION
    assert scopes["grid-market"] == Scope.MARKET and scopes["site-energy"] is None
    assert {scopes[k] for k in ("boiler", "kiln", "stack", "chiller")} == {Scope.DIRECT}


def test_trace_says_which_parameters_came_from_the_catalog() -> None:
    calculation = calculate(doc({"id": "gen", "method": "combustion", "fuel": "diesel",
                                 "amount": "120 t", "ncv": "43 GJ/t"}))  # fmt: skip
    trace = calculation.as_json()["sources"][0]["trace"]
    origins = {f["name"]: f["origin"] for f in trace["factors"]}
    assert origins["ncv"] == "measured"
    assert origins["carbon_per_heat"] == "default"
    assert origins["oxidation"] == "default"
    assert "fuel.mee_2013.diesel.carbon_per_heat" in trace["defaults_used"]
    assert "fuel.mee_2013.diesel.ncv" not in trace["defaults_used"]


def test_supplier_origin_and_market_based_contracts() -> None:
    """1 000 MWh: 300 MWh green-power contract (0) + 200 MWh supplier contract at 0.3
    + 500 MWh at the 2023 residual factor 0.6096 = 60 + 304.8 = 364.8 tCO2, market-based
    Scope 2: reported beside the total (0 here), not added to it."""
    calculation = calculate(
        doc(
            {
                "id": "grid", "method": "electricity", "amount": "1000 MWh",
                "green_power_contracts": "300 MWh",
                "contracts": [{"amount": "200000 kWh", "factor": "0.3 tCO2/MWh"}],
                "residual_series": "statistical_excl_market_nonfossil",
            },
            year=2023,
        )
    )  # fmt: skip
    assert calculation.by_scope_co2e_t == {"2-market": pytest.approx(364.8, rel=1e-12)}
    assert calculation.total_co2e_t == 0.0  # market-based: reported beside, never added


def test_grid_series_and_region_come_from_the_file() -> None:
    """Statistical series, 华东 2023: 1 000 MWh × 0.5500 = 550 tCO2."""
    calculation = calculate(
        doc({"id": "g", "method": "electricity", "amount": "1000 MWh"},
            year=2023, grid_series="statistical")
    )  # fmt: skip
    assert calculation.total_co2e_t == pytest.approx(550.0, rel=1e-12)


@pytest.mark.parametrize(
    ("source", "error", "field"),
    [
        ({"method": "combustion", "fuel": "diesel", "amount": "10 tCO2"}, UnitError,
         "sources[0].amount"),
        ({"method": "combustion", "fuel": "diesel", "amount": "-5 t"}, InputError,
         "sources[0].amount"),
        ({"method": "combustion", "fuel": "unobtainium", "amount": "5 t"}, UnknownFactor,
         "sources[0].fuel"),
        ({"method": "combustion", "fuel": "raw_coal", "amount": "5 t"}, MissingParameter,
         "sources[0].ncv"),
        ({"method": "combustion", "fuel": "diesel"}, MissingParameter, "sources[0].amount"),
        ({"method": "combustion", "fuel": "diesel", "amount": "5 t", "ncv": "5 kWh"}, UnitError,
         "sources[0].ncv"),
        ({"method": "combustion", "fuel": "diesel", "amount": "5 t", "colour": "red"},
         InputError, "sources[0].colour"),
        ({"method": "heat", "amount": "100 GJ"}, MissingParameter, "sources[0].factor"),
        ({"method": "process", "material": "cheese", "amount": "5 t"}, UnknownFactor,
         "sources[0].material"),
        ({"method": "direct", "gases": {"SF6": "3 MWh"}}, UnitError, "sources[0].gases.SF6"),
        ({"method": "mass_balance", "inputs": [{"amount": "5 t"}]}, MissingParameter,
         "sources[0].inputs[0].carbon_fraction"),
        ({"method": "teleport"}, InputError, "sources[0].method"),
        ({"method": "electricity", "amount": "10 MWh", "green_certificates": "20 MWh"},
         InputError, "sources[0].green_certificates"),
    ],
)  # fmt: skip
def test_bad_input_names_the_field(source: dict[str, Any], error: type, field: str) -> None:
    with pytest.raises(error) as info:
        calculate(doc({"id": "s", **source}))
    assert info.value.field == field


def test_unknown_gwp_set_and_missing_year_for_dated_factors() -> None:
    with pytest.raises(UnknownFactor) as info:
        calculate(doc({"method": "direct", "gases": {"SF6": "1 t"}}, gwp="AR9"))
    assert info.value.field == "gwp"
    with pytest.raises(MissingParameter, match="give a date") as missing:
        calculate({"gwp": "AR5", "sources": [{"method": "electricity", "amount": "1 MWh"}]})
    assert missing.value.field == "sources[0].factor"


runner = CliRunner()


def test_cli_calc_json(examples: Path) -> None:
    result = runner.invoke(app, ["calc", str(examples / "plant.yaml"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"total_co2e_t", "by_scope_co2e_t", "sources"}
    first = data["sources"][0]
    assert set(first) == {"id", "method", "scope", "in_total", "co2e_t", "gases", "trace"}
    assert first["id"] == "boiler" and first["method"] == "combustion"
    assert first["scope"] == "1" and first["in_total"] is True
    assert first["gases"] == {"CO2": pytest.approx(19_965.0)}
    assert first["trace"]["formula"]["id"] == "combustion.element_carbon"
    market = next(s for s in data["sources"] if s["id"] == "grid-market")
    assert market["scope"] == "2-market" and market["in_total"] is False
    counted = [s["co2e_t"] for s in data["sources"] if s["in_total"]]
    assert data["total_co2e_t"] == pytest.approx(sum(counted))
    by_scope = data["by_scope_co2e_t"]
    assert data["total_co2e_t"] == pytest.approx(by_scope["1"] + by_scope["2-location"])
    assert by_scope["2-market"] == pytest.approx(market["co2e_t"])


def test_cli_calc_table(examples: Path) -> None:
    result = runner.invoke(app, ["calc", str(examples / "plant.yaml")])
    assert result.exit_code == 0, result.output
    assert "boiler" in result.stdout and "19,965.000" in result.stdout


def test_cli_calc_error_is_bilingual_and_names_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("gwp: AR5\nsources:\n  - {id: b, method: combustion, fuel: diesel, "
                   "amount: 10 tCO2}\n", encoding="utf-8")  # fmt: skip
    result = runner.invoke(app, ["calc", str(bad)])
    assert result.exit_code == 1
    assert "错误 / error" in result.stderr and "sources[0].amount" in result.stderr


def test_power_guideline_series_for_coal() -> None:
    """Raw coal under the power guideline (series mee_power), 2024, measured NCV 20 GJ/t:
    default CC 0.03085 tC/GJ (2022 revision) and OF 99 %:
    1 000 × 20 × 0.03085 × 0.99 × 44/12 = 20 000 GJ × 0.03085 = 617 tC × 0.99 = 610.83 tC
    × 44/12 = 2 239.71 tCO2."""
    calculation = calculate(
        doc({"id": "unit-1", "method": "combustion", "fuel": "raw_coal", "amount": "1000 t",
             "ncv": "20 GJ/t", "series": "mee_power"})
    )  # fmt: skip
    assert calculation.total_co2e_t == pytest.approx(2239.71, rel=1e-9)
    trace = calculation.as_json()["sources"][0]["trace"]
    assert "fuel.mee_power.raw_coal.carbon_per_heat.2022" in trace["defaults_used"]


def test_a_value_is_read_only_when_its_method_uses_it() -> None:
    """``cao`` belongs to clinker: garbage there fails a clinker source, not a limestone one."""
    limestone = {"method": "process", "material": "limestone", "amount": "5 t", "cao": "abc"}
    assert calculate(doc(limestone)).total_co2e_t == pytest.approx(2.2, rel=1e-12)
    with pytest.raises(UnitError) as info:
        calculate(doc({**limestone, "material": "clinker", "mgo": 0.02}))
    assert info.value.field == "sources[0].cao"
