"""Comprehensive energy consumption in tce (GB/T 2589-2020) and intensity."""

from __future__ import annotations

import pytest

from tansuan.domain.catalog import shipped_catalog
from tansuan.domain.energy import EnergyUse, coefficient_from_ncv, comprehensive_energy
from tansuan.domain.result import Origin, given
from tansuan.errors import InputError

CATALOG = shipped_catalog()


def use(carrier: str, amount: float, unit: str) -> EnergyUse:
    coefficient = CATALOG.lookup("tce_coefficient", carrier).parameter("p")
    return EnergyUse(carrier, given(carrier, amount, unit), coefficient)


def test_site_energy_and_intensity() -> None:
    """GB/T 2589-2020 App. A coefficients:
    electricity 8 000 000 kWh × 0.1229 kgce/kWh = 983 200 kgce = 983.2 tce
    diesel 120 t = 120 000 kg × 1.4571 kgce/kg = 174 852 kgce = 174.852 tce
    natural gas 500 000 Nm3 × 1.3300 kgce/Nm3 = 665 000 kgce = 665 tce
    total 1 823.052 tce; per 20 000 t output = 0.0911526 tce/t."""
    result = comprehensive_energy(
        uses=[
            use("electricity", 8_000_000, "kWh"),
            use("diesel", 120, "t"),
            use("natural_gas", 500_000, "Nm3"),
        ],
        output=given("output", 20_000, "t"),
    )
    assert result.energy_tce == pytest.approx(1823.052, rel=1e-12)
    assert result.by_carrier_tce["electricity"] == pytest.approx(983.2, rel=1e-12)
    assert result.intensity == pytest.approx(0.0911526, rel=1e-9)
    assert result.intensity_unit == "tce/t"


def test_exported_energy_is_subtracted() -> None:
    """Heat 10 000 MJ consumed, 4 000 MJ exported, × 0.03412 kgce/MJ:
    (10 000 − 4 000) × 0.03412 = 204.72 kgce = 0.20472 tce."""
    result = comprehensive_energy(
        uses=[use("heat", 10_000, "MJ")], exported=[use("heat", 4_000, "MJ")]
    )
    assert result.energy_tce == pytest.approx(0.20472, rel=1e-12)


def test_coefficient_from_a_measured_ncv() -> None:
    """NCV 41.816 GJ/t = 41 816 kJ/kg; / 29 307.6 kJ/kgce = 1.4267971 kgce/kg
    (the tabulated crude-oil coefficient is 1.4286 — kcal/7000 — which is why the table is
    used when no NCV is measured)."""
    ncv = given("ncv", 41.816, "GJ/t", origin=Origin.MEASURED)
    coefficient = coefficient_from_ncv(
        ncv, CATALOG.constant("coal_equivalent_heat", "kgce", unit="kJ/kgce")
    )
    assert coefficient.to("kgce/kg") == pytest.approx(1.4267971, rel=1e-7)
    assert coefficient.origin == Origin.DERIVED


def test_more_exported_than_consumed_and_zero_output_are_refused() -> None:
    with pytest.raises(InputError, match="exported"):
        comprehensive_energy(uses=[use("heat", 1, "MJ")], exported=[use("heat", 2, "MJ")])
    with pytest.raises(InputError, match="output"):
        comprehensive_energy(uses=[use("heat", 1, "MJ")], output=given("o", 0, "t"))
