"""Power-sector benchmark allocation: worked examples by hand from domain-facts §7.1."""

from __future__ import annotations

import pytest

from tansuan.errors import InputError, UnknownFactor
from tansuan.market.allocation import Unit, allocate, load_factor_correction


def test_cogeneration_coal_unit_2021_worked_example() -> None:
    """Coal > 300 MW, 2021, 5 000 000 MWh supplied, air-cooled, heat ratio 0.10, 2 000 000 GJ heat.

    B_e = 0.8218, F_l = 1.05, F_r = 1 − 0.22 × 0.10 = 0.978, F_f = 1 (supplies heat);
    power = 5e6 × 0.8218 × 1.05 × 0.978 = 4 219 532.1 t; heat = 2e6 × 0.1111 = 222 200 t;
    total 4 441 732.1 t. Weakest tag: the heat benchmark and factors are [M].
    """
    unit = Unit(
        "unit-1", "coal_gt300", 5_000_000, heat_gj=2_000_000, cooling="air", load_factor=0.7
    )
    result = allocate(unit, 2021, heat_ratio=0.10)
    assert result.power_t == pytest.approx(4_219_532.1, abs=0.1)
    assert result.heat_t == pytest.approx(222_200.0)
    assert result.total_t == pytest.approx(4_441_732.1, abs=0.1)
    assert result.factors["F_f"] == 1.0
    assert result.confidence == "[M]"
    assert "bm.2021.coal_gt300" in result.rows


def test_gas_unit_2022() -> None:
    """Gas, 2022, 1 000 000 MWh, water-cooled, heat ratio 0.2: F_r = 1 − 0.6 × 0.2 = 0.88;
    1e6 × 0.3901 × 1 × 0.88 = 343 288 t."""
    result = allocate(Unit("gt", "gas", 1_000_000), 2022, heat_ratio=0.2)
    assert result.total_t == pytest.approx(343_288.0)


@pytest.mark.parametrize(
    ("load", "expected"),
    [
        (0.90, 1.0),  # ≥ 85 %
        (0.82, 1.0042),  # 1 + 0.0014 × (85 − 82)
        (0.78, 1.0102),  # 1.007 + 0.0016 × (80 − 78)
        (0.70, 1.030225),  # 1.015^(16 − 14) = 1.015²
    ],
)
def test_load_factor_bands(load: float, expected: float) -> None:
    assert load_factor_correction(load, 2021).value == pytest.approx(expected, abs=1e-9)


def test_pure_condensing_coal_unit_gets_the_load_correction() -> None:
    """Coal ≤ 300 MW, 2021, 1 000 000 MWh, load 0.78: 1e6 × 0.8773 × 1.0102 = 886 248.46 t."""
    result = allocate(Unit("u2", "coal_le300", 1_000_000, load_factor=0.78), 2021)
    assert result.total_t == pytest.approx(886_248.46, abs=0.01)


def test_no_benchmark_for_a_year_is_an_error_not_a_guess() -> None:
    with pytest.raises(UnknownFactor, match="coal_unconventional"):
        allocate(Unit("u", "coal_unconventional", 1.0), 2024)


def test_bad_input() -> None:
    with pytest.raises(InputError, match="category"):
        allocate(Unit("u", "oil", 1.0), 2021)
    with pytest.raises(InputError, match="heat ratio"):
        allocate(Unit("u", "gas", 1.0), 2021, heat_ratio=1.5)
    with pytest.raises(InputError, match="load factor"):
        load_factor_correction(1.3, 2021)
