"""Carbon mass balance."""

from __future__ import annotations

import pytest
from hypothesis import given as hgiven
from hypothesis import strategies as st

from tansuan.domain.catalog import shipped_catalog
from tansuan.domain.gases import gwp_set
from tansuan.domain.mass_balance import Stream, carbon_balance
from tansuan.domain.result import given
from tansuan.errors import InputError

RATIO = shipped_catalog().constant("ratio", "co2_per_c", unit="tCO2/tC")
AR5 = gwp_set("AR5")


def stream(t: float, fraction: float, field: str | None = None) -> Stream:
    return Stream(given("amount", t, "t", field=field), given("cc", fraction, "dimensionless"))


def test_issue_example_reactor() -> None:
    """In: 10 000 t × 0.85 = 8 500 tC; out: 9 000 t × 0.857 = 7 713 tC;
    E = (8 500 − 7 713) × 44/12 = 787 × 44/12 = 2 885.6666667 tCO2 (chemicals guideline)."""
    result = carbon_balance(
        inputs=[stream(10_000, 0.85)], outputs=[stream(9000, 0.857)], co2_per_c=RATIO, gwp=AR5
    )
    assert result.co2e_t == pytest.approx(2885.6666667, rel=1e-9)
    assert result.details["carbon_in_t"] == pytest.approx(8500.0)


def test_carbon_content_per_unit_of_gas() -> None:
    """A gas input of 10 × 10^4 Nm3 at 0.5 tC per 10^4 Nm3 carries 5 tC → 5 × 44/12 = 55/3 t."""
    gas = Stream(given("amount", 10, "wNm3"), given("cc", 0.5, "tC/wNm3"))
    result = carbon_balance(inputs=[gas], outputs=[], co2_per_c=RATIO, gwp=AR5)
    assert result.co2e_t == pytest.approx(55 / 3, rel=1e-12)


def test_more_carbon_out_than_in_is_refused() -> None:
    with pytest.raises(InputError) as info:
        carbon_balance(
            inputs=[stream(100, 0.5)],
            outputs=[stream(100, 0.6, field="sources[4].outputs[0].amount")],
            co2_per_c=RATIO,
            gwp=AR5,
        )
    assert info.value.field == "sources[4].outputs[0].amount"


@hgiven(
    st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=1e6, allow_nan=False),
            st.floats(min_value=0, max_value=1, allow_nan=False),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_balance_of_inputs_is_the_sum_of_their_balances(parts: list[tuple[float, float]]) -> None:
    whole = carbon_balance(
        inputs=[stream(t, f) for t, f in parts], outputs=[], co2_per_c=RATIO, gwp=AR5
    ).co2e_t
    pieces = sum(
        carbon_balance(inputs=[stream(t, f)], outputs=[], co2_per_c=RATIO, gwp=AR5).co2e_t
        for t, f in parts
    )
    assert whole == pytest.approx(pieces, rel=1e-9, abs=1e-9)
