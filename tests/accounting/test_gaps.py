"""Gap-filling rules: each fills what it should, marks it, and leaves the rest alone."""

from __future__ import annotations

import numpy as np
import pytest

from tansuan.accounting.gaps import (
    fill_cems_conservative,
    fill_default,
    fill_interpolate,
    fill_previous_average,
)
from tansuan.accounting.quality import combine, grade

nan = np.nan


def test_default_fills_only_missing_months() -> None:
    """A month without a lab analysis takes the default for that month only."""
    filled = fill_default(np.array([0.0264, nan, 0.0270]), 0.03085)
    np.testing.assert_array_equal(filled.values, [0.0264, 0.03085, 0.0270])
    np.testing.assert_array_equal(filled.substituted, [False, True, False])
    assert filled.substituted_share == pytest.approx(1 / 3)


def test_interpolate_short_gap_only() -> None:
    """Gap of 2 between 10 and 40: steps of (40 − 10)/3 = 10 → 20, 30. A 4-gap stays open."""
    values = np.array([10.0, nan, nan, 40.0, nan, nan, nan, nan, 5.0, nan])
    filled = fill_interpolate(values, max_gap=3)
    np.testing.assert_allclose(filled.values[:4], [10, 20, 30, 40])
    assert np.isnan(filled.values[4:8]).all()
    assert np.isnan(filled.values[9])  # open-ended gap at the end is not extrapolated
    assert filled.substituted.sum() == 2


def test_previous_average() -> None:
    """Previous period valid mean = (2 + 4 + 6) / 3 = 4."""
    filled = fill_previous_average(np.array([1.0, nan]), np.array([2.0, nan, 4.0, 6.0]))
    np.testing.assert_array_equal(filled.values, [1.0, 4.0])


def test_cems_short_gap_takes_mean_of_neighbours() -> None:
    """HJ 75 [M]: gap ≤ 24 h → mean of the valid hour before (100) and after (140) = 120."""
    values = np.array([90.0, 100.0, nan, nan, nan, 140.0])
    filled = fill_cems_conservative(values)
    np.testing.assert_array_equal(filled.values, [90, 100, 120, 120, 120, 140])
    assert filled.substituted.sum() == 3


def test_cems_long_gap_takes_max_of_lookback() -> None:
    """Gap > 24 h → maximum of the preceding valid hours (look-back 720; here history max 180)."""
    history = np.array([150.0, 180.0, 120.0])
    values = np.concatenate(([130.0], np.full(30, nan), [110.0]))
    filled = fill_cems_conservative(values, history)
    assert (filled.values[1:31] == 180.0).all()
    assert filled.values[0] == 130.0 and filled.values[31] == 110.0


def test_cems_lookback_is_limited() -> None:
    """With look-back 2 only the last two valid hours (120, 130) count → max 130, not 180."""
    history = np.array([180.0, 120.0])
    values = np.concatenate(([130.0], np.full(5, nan)))
    filled = fill_cems_conservative(values, history, short_gap=1, lookback=2)
    assert (filled.values[1:] == 130.0).all()


def test_quality_grades() -> None:
    assert grade(1.0, 0.0).grade == "A"
    assert grade(0.97, 0.03).grade == "B"
    assert grade(0.9, 0.1).grade == "C"
    assert grade(0.5, 0.5).grade == "D"
    assert grade(1.0, 0.0, missing_share=0.01).grade == "D"
    combined = combine([(3.0, grade(1.0, 0.0)), (1.0, grade(0.6, 0.4))])
    assert combined.substituted_share == pytest.approx(0.1)
    assert combined.grade == "C"
