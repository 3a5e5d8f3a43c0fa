"""Direct gas quantities to CO2e."""

from __future__ import annotations

import pytest

from tansuan.domain.direct import direct
from tansuan.domain.gases import gwp_set
from tansuan.domain.result import given
from tansuan.errors import InputError, UnknownFactor


def test_sf6_issue_example() -> None:
    """0.12 t SF6 × 23 500 (AR5) = 2 820 tCO2e; under AR4 × 22 800 = 2 736 tCO2e."""
    sf6 = [("SF6", given("sf6", 0.12, "t"))]
    assert direct(gases=sf6, gwp=gwp_set("AR5")).co2e_t == pytest.approx(2820.0, rel=1e-12)
    assert direct(gases=sf6, gwp=gwp_set("AR4")).co2e_t == pytest.approx(2736.0, rel=1e-12)


def test_mixture_in_kg() -> None:
    """500 kg CH4 × 28 + 20 kg N2O × 265 (AR5) = 14 + 5.3 = 19.3 tCO2e."""
    result = direct(
        gases=[("CH4", given("ch4", 500, "kg")), ("N2O", given("n2o", 20, "kg"))],
        gwp=gwp_set("AR5"),
    )
    assert result.gases_t == {"CH4": 0.5, "N2O": 0.02}
    assert result.co2e_t == pytest.approx(19.3, rel=1e-12)


def test_gas_missing_from_the_set_names_the_field() -> None:
    with pytest.raises(UnknownFactor) as info:
        direct(gases=[("NF3", given("nf3", 1, "t", field="sources[5].gases.NF3"))],
               gwp=gwp_set("SAR"))  # fmt: skip
    assert info.value.field == "sources[5].gases.NF3"


def test_negative_mass_is_refused() -> None:
    with pytest.raises(InputError, match="negative"):
        direct(gases=[("SF6", given("sf6", -1, "t"))], gwp=gwp_set("AR5"))
