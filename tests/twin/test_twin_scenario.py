"""What-if runs: the same days and seed, one change, compared through the domain methods."""

from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

from tansuan.cli import app
from tansuan.domain.catalog import shipped_catalog
from tansuan.errors import UnknownFactor
from tansuan.twin.scenario import Change, compare

END = dt.date(2025, 6, 29)


def test_no_change_gives_the_baseline() -> None:
    result = compare("shipyard", Change(), days=7, end=END)
    assert result.baseline == result.scenario
    assert result.baseline.electricity_mwh > 0 and result.baseline.scope1_t > 0


def test_fan_schedule_saves_electricity_and_scope_2() -> None:
    result = compare("shipyard", Change(fan_schedule=True), days=7, end=END)
    b, s = result.baseline, result.scenario
    assert s.electricity_mwh < 0.9 * b.electricity_mwh
    assert s.scope1_t == pytest.approx(b.scope1_t)  # the boiler is untouched
    assert s.scope2_t / b.scope2_t == pytest.approx(s.electricity_mwh / b.electricity_mwh)
    assert s.cost_cny < b.cost_cny


def test_vfd_retrofit_saves_electricity() -> None:
    result = compare("shipyard", Change(vfd_retrofit=True), days=7, end=END)
    assert result.scenario.electricity_mwh < result.baseline.electricity_mwh


def test_green_share_halves_scope_2() -> None:
    """Half the electricity on green-power contracts (counted at zero): scope 2 × 0.5."""
    result = compare("shipyard", Change(green_share=0.5), days=7, end=END)
    assert result.scenario.scope2_t == pytest.approx(0.5 * result.baseline.scope2_t)
    assert result.scenario.electricity_mwh == pytest.approx(result.baseline.electricity_mwh)


def test_fuel_switch_keeps_heat_and_cuts_co2_by_the_carbon_ratio() -> None:
    """Same heat from natural gas instead of fuel oil: CO2 scales with
    (CC_gas × OF_gas) / (CC_oil × OF_oil), both from the catalog (CH4/N2O aside)."""
    catalog = shipped_catalog()
    result = compare("shipyard", Change(fuel="natural_gas"), days=7, end=END)

    def per_heat(fuel: str) -> float:
        cc = catalog.lookup("carbon_per_heat", fuel).parameter("c", "tC/GJ").to("tC/GJ")
        of = catalog.lookup("oxidation", fuel).parameter("o", "dimensionless").to("dimensionless")
        return cc * of

    expected = result.baseline.scope1_t * per_heat("natural_gas") / per_heat("fuel_oil")
    assert result.scenario.scope1_t == pytest.approx(expected, rel=0.01)
    assert "natural_gas" in result.scenario.fuel


def test_production_change_moves_activity_loads() -> None:
    result = compare("cement", Change(production=0.8), days=7, end=END)
    assert result.scenario.scope1_t < result.baseline.scope1_t


def test_unknown_fuel_is_named() -> None:
    with pytest.raises(UnknownFactor, match="unobtainium"):
        compare("shipyard", Change(fuel="unobtainium"), days=7, end=END)


def test_cli_scenario() -> None:
    result = CliRunner().invoke(
        app, ["twin", "scenario", "--site", "shipyard", "--days", "7", "--fan-schedule"]
    )
    assert result.exit_code == 0, result.output
    assert "baseline" in result.output and "tCO2e" in result.output
