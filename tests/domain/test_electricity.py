"""Purchased electricity (location- and market-based) and heat."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given as hgiven
from hypothesis import strategies as st

from tansuan.domain.catalog import shipped_catalog
from tansuan.domain.electricity import Instrument, heat, location_based, market_based
from tansuan.domain.gases import gwp_set
from tansuan.domain.result import Origin, given
from tansuan.errors import InputError

CATALOG = shipped_catalog()
AR5 = gwp_set("AR5")
ETS_2022 = CATALOG.lookup("grid_electricity", "electricity", on=date(2022, 1, 1)).parameter(
    "grid", "tCO2/MWh"
)
GREEN = CATALOG.lookup("contract_instrument", "green_certificate").parameter("g", "tCO2/MWh")


def test_location_based_issue_example() -> None:
    """8 000 000 kWh = 8 000 MWh × 0.5810 tCO2/MWh (ETS factor 2021–2022) = 4 648 tCO2."""
    result = location_based(electricity=given("e", 8_000_000, "kWh"), factor=ETS_2022, gwp=AR5)
    assert result.gases_t["CO2"] == pytest.approx(4648.0, rel=1e-12)
    assert result.trace.factors[0].factor_id == "grid.ets.national.2021"


def test_statistical_factor_in_kg_per_kwh() -> None:
    """1 000 MWh × 0.5617 kgCO2/kWh (华东 2022) = 1 000 × 0.5617 tCO2/MWh = 561.7 tCO2."""
    factor = CATALOG.lookup(
        "grid_electricity", "electricity", on=date(2022, 3, 1), region="east", series="statistical"
    ).parameter("grid", "tCO2/MWh")
    result = location_based(electricity=given("e", 1000, "MWh"), factor=factor, gwp=AR5)
    assert result.co2e_t == pytest.approx(561.7, rel=1e-12)


def test_market_based_with_green_certificates() -> None:
    """8 000 MWh, 2 000 MWh covered by green certificates (0 tCO2/MWh), rest at 0.5810:
    2 000 × 0 + 6 000 × 0.5810 = 3 486 tCO2."""
    result = market_based(
        electricity=given("e", 8000, "MWh"),
        instruments=[Instrument("green_certificate", given("c", 2000, "MWh"), GREEN)],
        residual_factor=ETS_2022,
        gwp=AR5,
    )
    assert result.co2e_t == pytest.approx(3486.0, rel=1e-12)
    assert result.details["covered_mwh"] == 2000.0
    assert result.trace.formula.id == "electricity.market"


def test_market_based_with_a_supplier_contract_and_residual_mix() -> None:
    """1 000 MWh: 400 MWh contract at 0.2 tCO2/MWh + 600 MWh at 0.5856 (2022 residual)
    = 80 + 351.36 = 431.36 tCO2."""
    residual = CATALOG.lookup(
        "grid_electricity",
        "electricity",
        on=date(2022, 1, 1),
        series="statistical_excl_market_nonfossil",
    ).parameter("residual", "tCO2/MWh")
    contract = Instrument(
        "supplier_contract",
        given("c", 400, "MWh"),
        given("f", 0.2, "tCO2/MWh", origin=Origin.SUPPLIER),
    )
    result = market_based(
        electricity=given("e", 1000, "MWh"), instruments=[contract], residual_factor=residual,
        gwp=AR5,
    )  # fmt: skip
    assert result.co2e_t == pytest.approx(431.36, rel=1e-12)


def test_certificates_beyond_consumption_are_refused() -> None:
    with pytest.raises(InputError) as info:
        market_based(
            electricity=given("e", 100, "MWh"),
            instruments=[
                Instrument(
                    "green_certificate",
                    given("c", 150, "MWh", field="sources[2].green_certificates"),
                    GREEN,
                )
            ],
            residual_factor=ETS_2022,
            gwp=AR5,
        )
    assert info.value.field == "sources[2].green_certificates"


@hgiven(
    st.floats(min_value=0, max_value=1e9, allow_nan=False),
    st.floats(min_value=0, max_value=1e9, allow_nan=False),
)
def test_location_based_is_additive(a: float, b: float) -> None:
    def co2(mwh: float) -> float:
        return location_based(electricity=given("e", mwh, "MWh"), factor=ETS_2022, gwp=AR5).co2e_t

    assert co2(a + b) == pytest.approx(co2(a) + co2(b), rel=1e-9, abs=1e-9)


def test_heat_with_a_supplier_factor() -> None:
    """12 000 GJ × 0.098 tCO2/GJ = 1 176 tCO2 (a supplier's figure; no default is shipped)."""
    result = heat(
        heat=given("h", 12_000, "GJ"),
        factor=given("f", 0.098, "tCO2/GJ", origin=Origin.SUPPLIER),
        gwp=AR5,
    )
    assert result.co2e_t == pytest.approx(1176.0, rel=1e-12)


def test_negative_electricity_is_refused() -> None:
    with pytest.raises(InputError, match="negative"):
        location_based(electricity=given("e", -5, "MWh", field="x.amount"), factor=ETS_2022,
                       gwp=AR5)  # fmt: skip
