"""Fuel combustion: heat-based and element-carbon variants, basis conversion, CH4/N2O."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given as hgiven
from hypothesis import strategies as st

from tansuan.domain.catalog import shipped_catalog
from tansuan.domain.combustion import (
    as_received_carbon,
    as_received_from_air_dried,
    as_received_from_dry,
    co2_from_heat,
    combustion,
)
from tansuan.domain.gases import gwp_set
from tansuan.domain.result import Origin, Parameter, given
from tansuan.errors import InputError, MissingParameter, UnitError

CATALOG = shipped_catalog()
AR5 = gwp_set("AR5")
RATIO = CATALOG.constant("ratio", "co2_per_c", unit="tCO2/tC")


def default(kind: str, fuel: str, unit: str) -> Parameter:
    return CATALOG.lookup(kind, fuel).parameter(kind, unit)


def test_diesel_with_every_default() -> None:
    """100 t diesel, 2013 guideline 表2.1 defaults: NCV 42.652 GJ/t, CC 20.20 tC/TJ, OF 98 %.

    E = 100 × 42.652 × 0.0202 × 0.98 × 44/12
      = 4265.2 GJ × 0.0202 = 86.15704 tC × 0.98 = 84.4338992 tC × 44/12 = 309.5909637 tCO2
    """
    result = combustion(
        fuel="diesel",
        amount=given("fuel_t", 100, "t"),
        ncv=default("ncv", "diesel", "GJ/t"),
        carbon_per_heat=default("carbon_per_heat", "diesel", "tC/GJ"),
        oxidation=default("oxidation", "diesel", "dimensionless"),
        co2_per_c=RATIO,
        gwp=AR5,
    )
    assert result.gases_t["CO2"] == pytest.approx(309.5909637, rel=1e-9)
    assert result.co2e_t == pytest.approx(309.5909637, rel=1e-9)
    assert result.trace.formula.id == "combustion.heat_based"
    ids = {p.factor_id for p in result.trace.factors}
    assert {"fuel.mee_2013.diesel.ncv", "ratio.co2_per_c", "gwp.AR5.CO2"} <= ids


def test_issue_example_gas_furnace_in_ten_thousand_nm3() -> None:
    """50 × 10^4 Nm3 natural gas, NCV 389.31 GJ/10^4 Nm3, CC 0.0153 tC/GJ, OF 99 % (default).

    E = 50 × 389.31 = 19 465.5 GJ × 0.0153 = 297.82215 tC × 0.99 = 294.8439285 tC
        × 44/12 = 1081.0944045 tCO2
    """
    result = combustion(
        fuel="natural_gas",
        amount=given("fuel", 50, "wNm3"),
        ncv=given("ncv", 389.31, "GJ/wNm3", origin=Origin.MEASURED),
        carbon_per_heat=given("cc", 0.0153, "tC/GJ", origin=Origin.MEASURED),
        oxidation=default("oxidation", "natural_gas", "dimensionless"),
        co2_per_c=RATIO,
        gwp=AR5,
    )
    assert result.gases_t["CO2"] == pytest.approx(1081.0944045, rel=1e-9)


def test_issue_example_boiler_element_carbon() -> None:
    """10 000 t raw coal, C_ar 0.55 tC/t, OF 0.99: 10 000 × 0.55 × 0.99 × 44/12 = 19 965 tCO2."""
    result = combustion(
        fuel="raw_coal",
        amount=given("fuel_t", 10_000, "t"),
        carbon_content=given("c_ar", 0.55, "tC/t", origin=Origin.MEASURED),
        oxidation=given("of", 0.99, "dimensionless", origin=Origin.MEASURED),
        co2_per_c=RATIO,
        gwp=AR5,
    )
    assert result.gases_t["CO2"] == pytest.approx(19_965.0, rel=1e-12)
    assert result.trace.formula.id == "combustion.element_carbon"


def test_air_dried_to_as_received() -> None:
    """GB/T 483: C_ar = C_ad × (100 − M_ar)/(100 − M_ad) = 0.60 × 92/98 = 0.5632653061.
    C_ar = C_d × (100 − M_ar)/100 = 0.65 × 92/100 = 0.598."""
    assert as_received_from_air_dried(0.60, 8.0, 2.0) == pytest.approx(0.5632653061, rel=1e-9)
    assert as_received_from_dry(0.65, 8.0) == pytest.approx(0.598, rel=1e-12)
    derived = as_received_carbon(
        given("c_ad", 0.60, "tC/t", origin=Origin.MEASURED),
        given("m_ar", 8, "percent"),
        given("m_ad", 2, "percent"),
    )
    assert derived.value == pytest.approx(0.5632653061, rel=1e-9)
    assert "GB/T 483" in derived.source


def test_array_input() -> None:
    """Monthly coal (the power guideline computes month by month), FC × NCV × CC × OF × 44/12.

    Month 1: 1000 × 20 × 0.026 × 0.99 × 44/12 = 1887.6; month 2: 0 t → 0.
    """
    out = co2_from_heat(np.array([1000.0, 0.0]), 20.0, 0.026, 0.99, 44 / 12)
    np.testing.assert_allclose(out, [1887.6, 0.0], rtol=1e-12)


def test_ch4_and_n2o_from_ipcc_factors() -> None:
    """100 × 10^4 Nm3 gas × 389.31 GJ = 38 931 GJ = 38.931 TJ; Table 2.2 gas: CH4 1, N2O 0.1 kg/TJ
    → CH4 38.931 kg = 0.038931 t; N2O 3.8931 kg = 0.0038931 t.
    CO2e (AR5) adds 0.038931 × 28 + 0.0038931 × 265 = 1.090068 + 1.0316715 = 2.1217395 t."""
    result = combustion(
        fuel="natural_gas",
        amount=given("fuel", 100, "wNm3"),
        ncv=default("ncv", "natural_gas", "GJ/wNm3"),
        carbon_per_heat=default("carbon_per_heat", "natural_gas", "tC/GJ"),
        oxidation=default("oxidation", "natural_gas", "dimensionless"),
        co2_per_c=RATIO,
        gwp=AR5,
        ch4_factor=CATALOG.lookup("ch4_combustion", "natural_gas").parameter("ch4", "kg/TJ"),
        n2o_factor=CATALOG.lookup("n2o_combustion", "natural_gas").parameter("n2o", "kg/TJ"),
    )
    assert result.gases_t["CH4"] == pytest.approx(0.038931, rel=1e-9)
    assert result.gases_t["N2O"] == pytest.approx(0.0038931, rel=1e-9)
    assert result.co2e_t - result.gases_t["CO2"] == pytest.approx(2.1217395, rel=1e-9)


def _diesel(amount_t: float) -> float:
    return combustion(
        fuel="diesel",
        amount=given("fuel_t", amount_t, "t"),
        ncv=default("ncv", "diesel", "GJ/t"),
        carbon_per_heat=default("carbon_per_heat", "diesel", "tC/GJ"),
        oxidation=default("oxidation", "diesel", "dimensionless"),
        co2_per_c=RATIO,
        gwp=AR5,
    ).co2e_t


@hgiven(
    st.floats(min_value=0, max_value=1e7, allow_nan=False),
    st.floats(min_value=0, max_value=1e7, allow_nan=False),
)
def test_combustion_is_additive(a: float, b: float) -> None:
    assert _diesel(a + b) == pytest.approx(_diesel(a) + _diesel(b), rel=1e-9, abs=1e-9)


def test_negative_amount_names_the_field() -> None:
    with pytest.raises(InputError) as info:
        combustion(
            fuel="diesel",
            amount=given("fuel_t", -1, "t", field="sources[0].amount"),
            carbon_content=given("c", 0.8, "tC/t"),
            oxidation=given("of", 0.98, "dimensionless"),
            co2_per_c=RATIO,
            gwp=AR5,
        )
    assert info.value.field == "sources[0].amount"


def test_oxidation_must_be_a_fraction() -> None:
    with pytest.raises(InputError, match="fraction"):
        combustion(
            fuel="diesel",
            amount=given("fuel_t", 1, "t"),
            carbon_content=given("c", 0.8, "tC/t"),
            oxidation=given("of", 98, "dimensionless", field="sources[0].oxidation"),
            co2_per_c=RATIO,
            gwp=AR5,
        )


def test_missing_carbon_parameters_name_the_field() -> None:
    with pytest.raises(MissingParameter) as info:
        combustion(
            fuel="raw_coal",
            amount=given("fuel_t", 10, "t", field="sources[0].amount"),
            oxidation=given("of", 0.99, "dimensionless"),
            co2_per_c=RATIO,
            gwp=AR5,
        )
    assert info.value.field == "sources[0].ncv"


def test_ncv_per_tonne_with_gas_in_nm3_is_a_unit_error() -> None:
    with pytest.raises(UnitError) as info:
        combustion(
            fuel="natural_gas",
            amount=given("fuel", 50, "wNm3"),
            ncv=given("ncv", 389.31, "GJ/t", field="sources[1].ncv"),
            carbon_per_heat=given("cc", 0.0153, "tC/GJ"),
            oxidation=given("of", 0.99, "dimensionless"),
            co2_per_c=RATIO,
            gwp=AR5,
        )
    assert info.value.field == "sources[1].ncv"


def test_oxidation_in_percent_is_accepted() -> None:
    """OF written as 98 %: 1 t × 0.8 tC/t × 0.98 × 44/12 = 2.8746667 tCO2."""
    result = combustion(
        fuel="diesel",
        amount=given("fuel_t", 1, "t"),
        carbon_content=given("c", 0.8, "tC/t"),
        oxidation=given("of", 98, "percent"),
        co2_per_c=RATIO,
        gwp=AR5,
    )
    assert result.co2e_t == pytest.approx(0.8 * 0.98 * 44 / 12, rel=1e-12)
