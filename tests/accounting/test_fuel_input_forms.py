"""`tansuan calc` combustion sources in the forms plants have them: energy (GJ, TJ, MWh,
therm, MMBtu) with an EF per energy, volume with a density, plant-specific CH4/N2O."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tansuan.accounting.activity_file import calculate
from tansuan.cli import app
from tansuan.errors import InputError, MissingParameter, UnitError


def doc(*sources: dict[str, Any]) -> dict[str, Any]:
    return {"gwp": "AR5", "year": 2024, "region": "east", "sources": list(sources)}


def gas(**keys: Any) -> dict[str, Any]:
    return {"id": "s", "method": "combustion", "fuel": "natural_gas", **keys}


def trace(source: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = calculate(doc(source)).as_json()["sources"][0]
    return out


def test_ipcc_form_natural_gas_1000_gj() -> None:
    """IPCC 2006 Vol. 2 eq. 2.1: E = AD [TJ] × EF [tCO2/TJ] × OF. Natural gas, 1 000 GJ,
    EF 56 100 kgCO2/TJ (given here: the IPCC 2006 Vol. 2 Table 1.4 default), OF left out
    = 1 (shipped row fuel.ipcc_2006.default.oxidation_energy_factor):

    1 000 GJ = 1 TJ; 1 TJ × 56.1 tCO2/TJ × 1 = 56.1 tCO2. No NCV is used.
    """
    out = trace(gas(amount="1000 GJ", co2_factor="56100 kgCO2/TJ"))
    assert out["co2e_t"] == pytest.approx(56.1, rel=1e-12)
    assert out["trace"]["formula"]["id"] == "combustion.energy_factor"
    names = {f["name"]: f for f in out["trace"]["factors"]}
    assert "ncv" not in names
    assert names["oxidation"]["factor_id"] == "fuel.ipcc_2006.default.oxidation_energy_factor"
    assert names["co2_factor"]["origin"] == "measured"
    assert out["trace"]["inputs"][0]["unit"] == "GJ"


@pytest.mark.parametrize(
    ("amount", "tonnes"),
    [
        # 1 TJ × 56.1 = 56.1
        ("1 TJ", 56.1),
        # 1 000 MMBtu × 1.055056 GJ/MMBtu = 1 055.056 GJ = 1.055056 TJ × 56.1 = 59.1886416
        ("1000 MMBtu", 59.1886416),
        # 10 000 therm × 10^5 Btu = 10^9 Btu = 1 000 MMBtu → 59.1886416
        ("10000 therm", 59.1886416),
        # 1 000 MWh × 3.6 GJ/MWh = 3 600 GJ = 3.6 TJ × 56.1 = 201.96
        ("1000 MWh", 201.96),
    ],
)
def test_energy_units_of_the_fuel_amount(amount: str, tonnes: float) -> None:
    """The same EF (56.1 tCO2/TJ, given) with the energy in each unit users meter it in;
    1 MMBtu = 10^6 Btu = 1.055056 GJ and 1 therm = 10^5 Btu (ISO Btu, units.txt)."""
    out = trace(gas(amount=amount, co2_factor="56.1 tCO2/TJ"))
    assert out["co2e_t"] == pytest.approx(tonnes, rel=1e-12)


def test_energy_amount_without_ef_takes_the_heat_based_defaults() -> None:
    """1 000 MWh of natural gas = 3 600 GJ; the shipped mee_2013 defaults CC 15.3 tC/TJ and
    OF 99 %: 3 600 × 0.0153 × 0.99 × 44/12 = 199.9404 tCO2 (no NCV needed)."""
    out = trace(gas(amount="1000 MWh"))
    assert out["co2e_t"] == pytest.approx(199.9404, rel=1e-12)
    assert out["trace"]["formula"]["id"] == "combustion.heat_based"
    assert "fuel.mee_2013.natural_gas.ncv" not in out["trace"]["defaults_used"]
    assert any("fuel given as energy" in n for n in out["trace"]["notes"])


def test_mbtu_is_refused_mmbtu_accepted() -> None:
    """The unit "MBtu" would be 10^6 Btu to pint but 10^3 Btu in US trade: refused, naming the
    field; "MMBtu" is 10^6 Btu: 1 MMBtu × 1.055056 GJ × 56.1 tCO2/TJ = 0.0591886416 t."""
    with pytest.raises(UnitError) as info:
        calculate(doc(gas(amount="1000 MBtu", co2_factor="56.1 tCO2/TJ")))
    assert info.value.field == "sources[0].amount"
    assert "ambiguous" in info.value.message and "歧义" in info.value.message
    out = trace(gas(amount="1 MMBtu", co2_factor="56.1 tCO2/TJ"))
    assert out["co2e_t"] == pytest.approx(0.0591886416, rel=1e-12)


def test_liquid_fuel_by_volume_and_density() -> None:
    """Diesel metered as 100 m3 with a measured density 0.84 t/m3 (given):
    FC = 100 × 0.84 = 84 t; shipped mee_2013 defaults NCV 42.652 GJ/t, CC 20.2 tC/TJ,
    OF 98 %: 84 × 42.652 × 0.0202 × 0.98 × 44/12 = 260.056409536 tCO2.
    The same in litres: 100 000 L × 0.84 kg/L = 84 t."""
    diesel = {"id": "d", "method": "combustion", "fuel": "diesel"}
    out = trace({**diesel, "amount": "100 m3", "density": "0.84 t/m3"})
    assert out["co2e_t"] == pytest.approx(260.056409536, rel=1e-12)
    amount = out["trace"]["inputs"][0]
    assert (amount["value"], amount["unit"]) == (pytest.approx(84.0, rel=1e-12), "t")
    assert "V × ρ" in amount["source"]
    litres = trace({**diesel, "amount": "100000 L", "density": "0.84 kg/L"})
    assert litres["co2e_t"] == pytest.approx(260.056409536, rel=1e-12)
    with pytest.raises(MissingParameter) as info:
        calculate(doc({**diesel, "amount": "100 m3"}))
    assert info.value.field == "sources[0].density"
    with pytest.raises(InputError) as info:
        calculate(doc({**diesel, "amount": "84 t", "density": "0.84 t/m3"}))
    assert info.value.field == "sources[0].density"


def test_plant_specific_ch4_overrides_the_table_default() -> None:
    """Natural gas, 1 000 GJ = 1 TJ, EF_CO2 56.1 tCO2/TJ (given), ch4_n2o: energy_industries
    (shipped IPCC Table 2.2 rows: CH4 1 kg/TJ, N2O 0.1 kg/TJ), plant CH4 5 kg/TJ (given):

    CO2 = 1 × 56.1 = 56.1 t; CH4 = 1 TJ × 5 kg/TJ = 0.005 t (not 0.001 t);
    N2O = 1 TJ × 0.1 kg/TJ = 0.0001 t;
    CO2e (AR5: CH4 28, N2O 265) = 56.1 + 0.14 + 0.0265 = 56.2665 t.
    """
    out = trace(
        gas(amount="1000 GJ", co2_factor="56.1 tCO2/TJ", ch4_n2o="energy_industries",
            ch4_factor="5 kg/TJ")
    )  # fmt: skip
    assert out["gases"]["CH4"] == pytest.approx(0.005, rel=1e-12)
    assert out["gases"]["N2O"] == pytest.approx(0.0001, rel=1e-12)
    assert out["co2e_t"] == pytest.approx(56.2665, rel=1e-12)
    factors = {f["name"]: f for f in out["trace"]["factors"]}
    assert factors["ch4_factor"]["origin"] == "measured"
    assert factors["n2o_factor"]["factor_id"] == "n2o.energy_industries.natural_gas"
    notes = out["trace"]["notes"]
    assert any("CH4: plant-specific factor 5 kg/TJ" in n and "table default" in n for n in notes)
    assert not any(n.startswith("N2O: plant-specific") for n in notes)


def test_plant_specific_n2o_without_a_table_and_from_a_supplier() -> None:
    """Diesel 100 t, shipped NCV 42.652 GJ/t: 4 264.2 GJ = 4.2652 TJ; N2O 0.6 kg/TJ from the
    supplier (given) → 4.2652 × 0.6 = 2.55912 kg = 0.00255912 t N2O."""
    out = trace({"id": "d", "method": "combustion", "fuel": "diesel", "amount": "100 t",
                 "n2o_factor": {"value": "0.6 kg/TJ", "origin": "supplier"}})  # fmt: skip
    assert out["gases"]["N2O"] == pytest.approx(0.00255912, rel=1e-12)
    assert "CH4" not in out["gases"]
    factors = {f["name"]: f for f in out["trace"]["factors"]}
    assert factors["n2o_factor"]["origin"] == "supplier"


def test_energy_amount_refuses_an_ncv() -> None:
    with pytest.raises(InputError) as info:
        calculate(doc(gas(amount="1000 GJ", ncv="389.31 GJ/1e4Nm3")))
    assert info.value.field == "sources[0].ncv"


def test_readable_unit_errors() -> None:
    """A wrong unit names the unit as written and the kind expected, in both languages."""
    with pytest.raises(UnitError) as info:
        calculate(doc({"id": "d", "method": "combustion", "fuel": "diesel", "amount": "100 t",
                       "ncv": "42 thm"}))  # fmt: skip
    assert info.value.field == "sources[0].ncv"
    assert "unit 'thm' (energy) cannot be converted to GJ/t" in info.value.message
    with pytest.raises(UnitError) as info:
        calculate(doc(gas(amount="1000 GJ", co2_factor="56100 kg/TJ")))
    assert "kgCO2/TJ" in info.value.message
    with pytest.raises(UnitError) as info:
        calculate(doc({"id": "d", "method": "combustion", "fuel": "diesel", "amount": "5 tC"}))
    assert "unit 'tC' (carbon-mass) is not a mass unit (expected e.g. t, kg)" in str(info.value)


def test_cli_prints_the_unit_error_readably(tmp_path: Path) -> None:
    """The message reaches the terminal whole: no pint dimensionality whose [brackets]
    Rich would take for markup (it printed "thm ( * ** 2 / ** 2)")."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("gwp: AR5\nsources:\n  - {id: b, method: combustion, fuel: diesel, "
                   "amount: 5 t, ncv: 42 thm}\n", encoding="utf-8")  # fmt: skip
    result = CliRunner().invoke(app, ["calc", str(bad)])
    assert result.exit_code == 1
    err = " ".join(result.stderr.split())
    assert "unit 'thm' (energy) cannot be converted to GJ/t" in err
    assert "**" not in err and "( *" not in err
