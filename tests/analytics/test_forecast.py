"""Forecasts: hand-checked seasonal naive, and the regression beating it on a trended series."""

from __future__ import annotations

import numpy as np
import pytest

from tansuan.analytics.forecast import (
    backtest,
    best_model,
    calendar_regression,
    seasonal_naive,
    seasonal_regression,
)
from tansuan.errors import InputError


def _monthly(seed: int, n: int = 60) -> np.ndarray:
    """1000 MWh + 6 MWh/month trend + 150·sin(2πt/12) season + noise σ = 25 MWh."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 1000 + 6 * t + 150 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 25, n)


def test_seasonal_naive_by_hand() -> None:
    """History 1..24 (m = 12): forecast of the next 13 = 13..24, then 13.

    Seasonal differences are all 12 → σ = 12; 90 % z = 1.6449 → half-width 19.738 for h ≤ 12,
    × sqrt(2) = 27.914 for h = 13.
    """
    fc = seasonal_naive(np.arange(1.0, 25.0), 13)
    assert fc.mean.tolist() == [*range(13, 25), 13]
    assert (fc.upper - fc.mean)[0] == pytest.approx(19.738, abs=1e-3)
    assert (fc.upper - fc.mean)[12] == pytest.approx(27.914, abs=1e-3)


def test_regression_recovers_a_planted_line_exactly() -> None:
    """y = 100 + 2t + season (no noise) → forecast continues the line with the same season."""
    t = np.arange(36)
    season = np.tile(np.arange(12) * 3.0, 3)
    y = 100 + 2 * t + season
    fc = seasonal_regression(y + np.random.default_rng(0).normal(0, 1e-6, 36), 12)
    expected = 100 + 2 * np.arange(36, 48) + np.arange(12) * 3.0
    assert fc.mean == pytest.approx(expected, abs=1e-4)


def test_regression_beats_seasonal_naive_in_the_backtest() -> None:
    """With a 6 MWh/month trend, seasonal naive lags by ~72 MWh; the regression does not."""
    y = _monthly(3)
    naive = backtest(y, "seasonal_naive", h=12)
    reg = backtest(y, "seasonal_regression", h=12)
    assert reg.mae < 0.6 * naive.mae
    assert reg.mase < naive.mase
    assert naive.windows == 60 - 24 - 12 + 1
    assert 0.75 <= reg.coverage <= 1.0
    assert best_model(y)[0] == "seasonal_regression"


def test_regression_beats_naive_over_many_series() -> None:
    wins = sum(
        backtest(_monthly(s), "seasonal_regression").mae
        < backtest(_monthly(s), "seasonal_naive").mae
        for s in range(20)
    )
    assert wins == 20


def test_a_production_plan_drives_the_forecast() -> None:
    """E = 200 + 0.5·production (noise-free season-less): plan 1000 t → ≈ 700 MWh."""
    rng = np.random.default_rng(2)
    production = rng.uniform(400, 1200, 36)
    y = 200 + 0.5 * production + rng.normal(0, 1, 36)
    fc = seasonal_regression(
        y, 2, exog={"production": production}, exog_future={"production": [1000, 1000]}
    )
    assert fc.mean == pytest.approx([700, 700], abs=5)


def test_bad_input() -> None:
    with pytest.raises(InputError, match="two seasons"):
        seasonal_naive(np.ones(10), 3)
    with pytest.raises(InputError, match="unknown model"):
        backtest(_monthly(1), "prophet")
    with pytest.raises(InputError, match="no future values"):
        seasonal_regression(_monthly(1), 2, exog={"p": np.ones(60)})
    with pytest.raises(InputError, match="too short"):
        backtest(_monthly(1, n=30), "seasonal_naive", h=12)


def test_year_outlook_adds_actual_months_and_the_forecast_rest() -> None:
    """History 2023-01 … 2026-08 (44 months); 2026 = 8 actual months + 4 forecast months."""
    from tansuan.analytics.forecast import year_outlook

    y = _monthly(8, n=44)
    months = [f"{2023 + i // 12}-{i % 12 + 1:02d}" for i in range(44)]
    outlook = year_outlook(months, y, 2026)
    assert outlook.months_actual == 8 and outlook.months_forecast == 4
    assert outlook.actual == pytest.approx(float(y[36:].sum()))
    truth = sum(1000 + 6 * t + 150 * np.sin(2 * np.pi * t / 12) for t in range(44, 48))
    assert outlook.forecast == pytest.approx(truth, abs=3 * outlook.sd + 1)
    assert outlook.sd > 0
    nxt = year_outlook(months, y, 2027)
    assert nxt.months_actual == 0 and nxt.months_forecast == 12
    with pytest.raises(InputError, match="consecutive"):
        year_outlook(["2026-01", "2026-03"], [1, 2], 2026)
    with pytest.raises(InputError, match="past"):
        year_outlook(months, y, 2025)


def test_calendar_regression_follows_the_working_days() -> None:
    """y = 500 + 40·(working days) exactly (+ 1e-6 noise for a non-singular fit): the
    forecast of months with 20, 26 and 16 working days is 1300, 1540 and 1140."""
    rng = np.random.default_rng(1)
    days = rng.integers(15, 27, 30).astype(float)
    y = 500 + 40 * days + rng.normal(0, 1e-6, 30)
    fc = calendar_regression(
        y, 3, exog={"working_days": days}, exog_future={"working_days": [20.0, 26.0, 16.0]}
    )
    assert fc.mean == pytest.approx([1300.0, 1540.0, 1140.0], abs=1e-3)
    assert np.all(fc.lower <= fc.mean) and np.all(fc.mean <= fc.upper)


def test_calendar_regression_needs_its_drivers_and_their_plan() -> None:
    y = np.arange(30.0)
    with pytest.raises(InputError, match="needs drivers"):
        calendar_regression(y, 2)
    with pytest.raises(InputError, match="no future values"):
        calendar_regression(y, 2, exog={"working_days": y})
    with pytest.raises(InputError, match="has 1 periods, need 2"):
        calendar_regression(y, 2, exog={"working_days": y}, exog_future={"working_days": [1.0]})


def test_without_drivers_the_calendar_model_does_not_compete() -> None:
    _, tests = best_model(_monthly(4))
    assert [t.model for t in tests] == ["seasonal_naive", "seasonal_regression"]
    _, tests = best_model(
        _monthly(4), drivers={"working_days": np.full(60, 22.0) + np.arange(60) % 3}
    )
    assert [t.model for t in tests][-1] == "calendar_regression"
    with pytest.raises(InputError, match="one value per period"):
        backtest(_monthly(4), "calendar_regression", drivers={"working_days": np.ones(59)})


def test_calendar_regression_carries_a_recent_level_shift_forward() -> None:
    """y = 1000 + 20·(working days) + noise σ 5 for 32 months, then 150 lower for the last 4
    (a retrofit): the CUSUM of the drivers model's residuals dates the shift at period 32
    (±1), and a month of 20 working days is forecast at 1000 + 400 − 150 = 1250 (±20),
    not at the ~1390 the unshifted history would give. Without the step: no shift."""
    rng = np.random.default_rng(5)
    days = rng.integers(18, 27, 36).astype(float)
    base = 1000 + 20 * days + rng.normal(0, 5, 36)
    shifted = base - np.where(np.arange(36) >= 32, 150.0, 0.0)
    plan = {"working_days": [20.0, 20.0]}
    fc = calendar_regression(shifted, 2, exog={"working_days": days}, exog_future=plan)
    assert fc.shift_from is not None and abs(fc.shift_from - 32) <= 1
    assert fc.mean == pytest.approx([1250.0, 1250.0], abs=20.0)
    steady = calendar_regression(base, 2, exog={"working_days": days}, exog_future=plan)
    assert steady.shift_from is None
    assert steady.mean == pytest.approx([1400.0, 1400.0], abs=10.0)
