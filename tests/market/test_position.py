"""Compliance position: obligations, the CCER cap, shortfall value and its probability."""

from __future__ import annotations

import pytest

from tansuan.errors import InputError, UnknownFactor
from tansuan.market.position import Holdings, Rules, obligation, position

RULES = Rules.for_year(2022)


def test_rules_come_from_the_table() -> None:
    assert RULES.ccer_cap == 0.05 and RULES.shortfall_cap == 0.20 and RULES.gas_exemption
    with pytest.raises(UnknownFactor):
        Rules.for_year(2024)


def test_exactly_covered_has_even_odds() -> None:
    """E = 1 000 000 ± 50 000 t; free 900 000 + bought 40 000 + banked 10 000 = 950 000 CEA;
    CCER 60 000 held, usable min(60 000, 5 % × 1 000 000) = 50 000 → covered 1 000 000, no
    shortfall. Break-even: 0.95·E = 950 000 → E* = 1 000 000 → P = 1 − Φ(0) = 0.5.
    """
    h = Holdings(free_allocation=900_000, purchased=40_000, banked=10_000, ccer=60_000)
    p = position(1_000_000, 50_000, h, RULES, price=80)
    assert p.obligation == 1_000_000 and p.ccer_usable == 50_000
    assert p.shortfall == 0 and p.surplus == 0
    assert p.break_even_emissions == pytest.approx(1_000_000, abs=1e-3)
    assert p.shortfall_probability == pytest.approx(0.5, abs=1e-9)


def test_short_after_selling() -> None:
    """As above but 100 000 sold: CEA 850 000 + CCER 50 000 = 900 000 → shortfall 100 000 t,
    × 80 CNY = 8 000 000 CNY. E* = 850 000/0.95 = 894 736.84; z = −2.10526 → P = 0.98237.
    """
    h = Holdings(
        free_allocation=900_000, purchased=40_000, sold=100_000, banked=10_000, ccer=60_000
    )
    p = position(1_000_000, 50_000, h, RULES, price=80)
    assert p.shortfall == pytest.approx(100_000)
    assert p.shortfall_value == pytest.approx(8_000_000)
    assert p.break_even_emissions == pytest.approx(894_736.84, abs=0.01)
    assert p.shortfall_probability == pytest.approx(0.98237, abs=1e-5)


def test_twenty_percent_cap_and_gas_exemption() -> None:
    """E = 1 000 000, A = 700 000: gap 30 % > 20 % → O = 700 000 + 200 000 = 900 000.
    Gas unit: O = min(E, A) = 700 000. Below the cap (A = 900 000): O = E."""
    assert obligation(1_000_000, 700_000, RULES) == pytest.approx(900_000)
    assert obligation(1_000_000, 700_000, RULES, gas=True) == 700_000
    assert obligation(1_000_000, 900_000, RULES) == 1_000_000
    no_cap = Rules(0.05, None, False, "test")
    assert obligation(1_000_000, 700_000, no_cap) == 1_000_000


def test_a_comfortable_surplus_has_negligible_risk() -> None:
    h = Holdings(free_allocation=1_300_000)
    p = position(1_000_000, 50_000, h, RULES, price=80)
    assert p.surplus == pytest.approx(300_000) and p.shortfall_probability < 1e-6


def test_bad_input() -> None:
    with pytest.raises(InputError, match="sold"):
        Holdings(free_allocation=1, sold=-1)
    with pytest.raises(InputError, match="negative"):
        position(1, -1, Holdings(1), RULES, price=1)
