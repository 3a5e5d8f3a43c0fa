"""Fuel given as energy, by volume with its density, and the energy-factor variant."""

from __future__ import annotations

import pytest

from tansuan.domain import units
from tansuan.domain.catalog import shipped_catalog
from tansuan.domain.combustion import co2_from_energy, combustion, fuel_mass
from tansuan.domain.gases import gwp_set
from tansuan.domain.result import Origin, given
from tansuan.errors import InputError, MissingParameter, UnitError

CATALOG = shipped_catalog()
AR5 = gwp_set("AR5")
RATIO = CATALOG.constant("ratio", "co2_per_c", unit="tCO2/tC")
ONE = CATALOG.lookup("oxidation_energy_factor", "default").parameter("oxidation", "dimensionless")


def test_ipcc_energy_factor_natural_gas() -> None:
    """IPCC 2006 Vol. 2 eq. 2.1, natural gas, EF 56 100 kgCO2/TJ (a given input here: the
    IPCC 2006 Vol. 2 Table 1.4 default, not a shipped row), OF 1 (shipped row
    fuel.ipcc_2006.default.oxidation_energy_factor):

    1 000 GJ = 1 TJ × 56 100 kg/TJ = 56 100 kg = 56.1 tCO2.
    """
    result = combustion(
        fuel="natural_gas",
        amount=given("fuel_energy", 1000.0, "GJ"),
        oxidation=ONE,
        co2_per_c=RATIO,
        gwp=AR5,
        co2_factor=given("co2_factor", 56_100.0, "kgCO2/TJ", origin=Origin.MEASURED),
    )
    assert ONE.value == 1.0
    assert result.gases_t["CO2"] == pytest.approx(56.1, rel=1e-12)
    assert result.trace.formula.id == "combustion.energy_factor"
    assert result.details["fuel_energy_gj"] == pytest.approx(1000.0, rel=1e-12)
    assert any("fuel given as energy" in note for note in result.trace.notes)
    assert co2_from_energy(1000.0, 0.0561, 1.0) == pytest.approx(56.1, rel=1e-12)


def test_energy_amount_refuses_a_per_fuel_parameter() -> None:
    """NCV and carbon content are per unit of fuel: with the amount as energy they have
    nothing to multiply, so they are refused rather than silently ignored."""
    with pytest.raises(InputError, match="ncv is per unit of fuel"):
        combustion(
            fuel="natural_gas",
            amount=given("fuel_energy", 1000.0, "GJ", field="s.amount"),
            oxidation=ONE,
            co2_per_c=RATIO,
            gwp=AR5,
            ncv=given("ncv", 389.31, "GJ/wNm3"),
            co2_factor=given("co2_factor", 56.1, "tCO2/TJ"),
        )


def test_energy_factor_without_energy_is_missing_the_ncv() -> None:
    with pytest.raises(MissingParameter, match="co2_factor"):
        combustion(
            fuel="diesel",
            amount=given("fuel_amount", 10.0, "t", field="s.amount"),
            oxidation=ONE,
            co2_per_c=RATIO,
            gwp=AR5,
            co2_factor=given("co2_factor", 74.1, "tCO2/TJ"),
        )


def test_fuel_mass_is_volume_times_density() -> None:
    """100 m3 × 0.84 t/m3 (given) = 84 t; 100 000 L × 0.84 kg/L = 84 000 kg = 84 t."""
    mass = fuel_mass(given("fuel_volume", 100.0, "m**3"), given("density", 0.84, "t/m**3"))
    assert (mass.value, mass.unit) == (pytest.approx(84.0, rel=1e-12), "t")
    assert "V × ρ" in mass.source
    litres = fuel_mass(given("fuel_volume", 100_000.0, "L"), given("density", 0.84, "kg/L"))
    assert litres.value == pytest.approx(84.0, rel=1e-12)
    with pytest.raises(UnitError):
        fuel_mass(given("fuel_volume", 100.0, "m**3"), given("density", 0.84, "GJ/t"))


def test_mmbtu_and_therm_are_defined_by_the_iso_btu() -> None:
    """1 Btu = 1 055.056 J (units.txt), so 1 MMBtu = 10^6 Btu = 1.055056 GJ and
    1 therm = 10^5 Btu = 0.1055056 GJ; 10 therm = 1 MMBtu."""
    assert units.factor("MMBtu", "GJ") == pytest.approx(1.055056, rel=1e-12)
    assert units.factor("therm", "MJ") == pytest.approx(105.5056, rel=1e-12)
    assert units.factor("therm", "MMBtu") == pytest.approx(0.1, rel=1e-12)
    assert units.factor("kBtu", "MJ") == pytest.approx(1.055056, rel=1e-12)


@pytest.mark.parametrize("written", ["MBtu", "MBTU", "Mbtu", "MBtu/h", "10 MBtu"])
def test_mbtu_is_refused_as_ambiguous(written: str) -> None:
    """The unit "MBtu" is 10^3 Btu in US trade (Roman M) and 10^6 Btu by the SI prefix: refused,
    naming both readings, in Chinese and English."""
    with pytest.raises(UnitError) as info:
        if written[0].isdigit():
            units.parse(written, field="amount")
        else:
            units.unit(written)
    message = info.value.message
    assert "ambiguous" in message and "歧义" in message
    assert "10^3 Btu" in message and "10^6 Btu" in message
    assert "MMBtu" in message and "kBtu" in message


def test_a_wrong_unit_is_named_as_written_with_what_was_expected() -> None:
    """No pint internals ([mass] * [length] ** 2 …), whose brackets Rich swallows."""
    with pytest.raises(UnitError) as info:
        units.magnitude("100 thm", "t", field="sources[0].amount")
    message = info.value.message
    assert "unit 'thm' (energy) is not a mass unit (expected e.g. t, kg)" in message
    assert "质量" in message and "[" not in message and "**" not in message
    with pytest.raises(UnitError) as info:
        units.convert(5.0, "t", "GJ", shown="5 t")
    expected = "unit 't' (mass) is not an energy unit (expected e.g. GJ, TJ, MWh, therm, MMBtu)"
    assert expected in info.value.message
    with pytest.raises(UnitError, match="write the gas in the unit"):
        units.convert(56_100.0, "kg/TJ", "tCO2/TJ")
