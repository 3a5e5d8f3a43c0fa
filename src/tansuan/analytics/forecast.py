"""Monthly energy / emissions forecasts with prediction intervals and a rolling-origin back-test.

Two models (energy-analytics.md §7):

* ``seasonal_naive`` — repeats the last season; the mandatory benchmark. Interval from the
  σ of the seasonal differences, widened by sqrt(k + 1) with k = ⌊(h − 1)/m⌋ full seasons
  ahead (Hyndman & Athanasopoulos, *Forecasting: Principles and Practice* 3rd ed. §5.5).
* ``seasonal_regression`` — OLS on a linear trend and month-of-season dummies, optionally
  with exogenous drivers (a production plan); interval ± t·σ·sqrt(1 + x'(X'X)⁻¹x).
* ``calendar_regression`` — OLS on the drivers alone (the working days of each month from
  the plant's shift calendar, a production plan): two parameters instead of thirteen, so
  it learns from two years what the dummies cannot. Only offered when drivers are given.

``backtest`` runs an expanding-window rolling origin, step one period, and reports MAE and
MASE (scale: in-sample MAE of the one-step seasonal-naive forecast at each cutoff, Hyndman &
Koehler 2006) plus the empirical coverage of the intervals.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tansuan.analytics import stats
from tansuan.analytics.baseline import fit_baseline
from tansuan.analytics.cusum import cusum
from tansuan.domain import months as month_arithmetic
from tansuan.errors import InputError

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Forecast:
    """Point forecast and central prediction interval for periods T+1 … T+h."""

    model: str
    mean: Array
    lower: Array
    upper: Array
    level: float
    #: Index of the first period of a level shift the model carried forward, if any.
    shift_from: int | None = None


@dataclass(frozen=True)
class BackTest:
    """Rolling-origin accuracy of one model."""

    model: str
    windows: int
    horizon: int
    mae: float
    mase: float
    coverage: float


Model = Callable[..., Forecast]


def _series(y: ArrayLike, m: int) -> Array:
    out = np.asarray(y, dtype=np.float64)
    if out.ndim != 1 or not np.all(np.isfinite(out)):
        raise InputError("history must be a one-dimensional series without gaps", field="history")
    if len(out) < 2 * m:
        raise InputError(
            f"need at least two seasons ({2 * m} periods) of history, got {len(out)}",
            field="history",
        )
    return out


def seasonal_naive(
    y: ArrayLike, h: int, *, m: int = 12, level: float = 0.9, **_: object
) -> Forecast:
    """Repeat the last season; interval from the seasonal-difference σ."""
    data = _series(y, m)
    steps = np.arange(h)
    mean = data[len(data) - m + steps % m]
    diffs = data[m:] - data[:-m]
    sigma = float(np.sqrt(np.mean(diffs**2)))
    z = stats.norm_ppf(0.5 + level / 2)
    width = z * sigma * np.sqrt(steps // m + 1)
    return Forecast("seasonal_naive", mean, mean - width, mean + width, level)


def _design(start: int, count: int, m: int) -> dict[str, Array]:
    t = np.arange(start, start + count, dtype=np.float64)
    drivers = {"trend": t}
    for s in range(1, m):
        drivers[f"season_{s}"] = ((t.astype(int) % m) == s).astype(np.float64)
    return drivers


def seasonal_regression(
    y: ArrayLike,
    h: int,
    *,
    m: int = 12,
    level: float = 0.9,
    exog: Mapping[str, ArrayLike] | None = None,
    exog_future: Mapping[str, ArrayLike] | None = None,
) -> Forecast:
    """Trend + season dummies (+ exogenous drivers) by OLS, with t-based intervals.

    Parameters
    ----------
    exog, exog_future
        Drivers over the history and over the h future periods (e.g. planned production [t]).
    """
    data = _series(y, m)
    past = _design(0, len(data), m)
    future = _design(len(data), h, m)
    return _ols("seasonal_regression", data, h, level, past, future, exog, exog_future)


def calendar_regression(
    y: ArrayLike,
    h: int,
    *,
    m: int = 12,
    level: float = 0.9,
    exog: Mapping[str, ArrayLike] | None = None,
    exog_future: Mapping[str, ArrayLike] | None = None,
) -> Forecast:
    """Intercept + exogenous drivers by OLS (no season, no trend), with t-based intervals.

    Raises
    ------
    InputError
        No drivers, or a driver without its future values.
    """
    data = _series(y, m)
    if not exog:
        raise InputError("calendar regression needs drivers (working days, a plan)", field="exog")
    plain = _ols("calendar_regression", data, h, level, {}, {}, exog, exog_future)
    start = _recent_shift(data, exog)
    if start is None:
        return plain
    step = {"level_shift": (np.arange(len(data)) >= start).astype(np.float64)}
    ahead = {"level_shift": np.ones(h)}
    exog_future = exog_future or {}
    fc = _ols("calendar_regression", data, h, level, step, ahead, exog, exog_future)
    return Forecast(fc.model, fc.mean, fc.lower, fc.upper, fc.level, start)


def _recent_shift(data: Array, exog: Mapping[str, ArrayLike]) -> int | None:
    """The start of a level shift at the end of the history that the drivers do not
    explain (a retrofit, a lost product line): the tabular CUSUM (the table's k and h) of
    the drivers model's residuals alarms within the last 3 periods, on a change that began
    at least a season in and at least 2 periods before the end. None otherwise."""
    columns = {k: np.asarray(v, dtype=np.float64) for k, v in exog.items()}
    model = fit_baseline(data, columns)
    if not model.rmse > 0:
        return None
    chart = cusum(data, model.predict(columns), model.rmse)
    if not chart.detections:
        return None
    last = chart.detections[-1]
    n = len(data)
    if last.alarm_index >= n - 3 and 12 <= last.start_index <= n - 2:
        return last.start_index
    return None


def _ols(
    name: str,
    data: Array,
    h: int,
    level: float,
    past: dict[str, Array],
    future: dict[str, Array],
    exog: Mapping[str, ArrayLike] | None,
    exog_future: Mapping[str, ArrayLike] | None,
) -> Forecast:
    """Fit ``data`` on ``past`` + ``exog`` columns; predict ``future`` + ``exog_future``."""
    for key, values in (exog or {}).items():
        if exog_future is None or key not in exog_future:
            raise InputError(
                f"driver {key!r} has no future values (a plan)", field=f"exog_future.{key}"
            )
        past[key] = np.asarray(values, dtype=np.float64)
        future[key] = np.asarray(exog_future[key], dtype=np.float64)
        if len(future[key]) != h:
            raise InputError(
                f"plan {key!r} has {len(future[key])} periods, need {h}",
                field=f"exog_future.{key}",
            )
    model = fit_baseline(data, past)
    mean = model.predict(future)
    t = stats.t_ppf(0.5 + level / 2, model.n - model.p)
    width = t * model.prediction_se(future)
    return Forecast(name, mean, mean - width, mean + width, level)


MODELS: dict[str, Model] = {
    "seasonal_naive": seasonal_naive,
    "seasonal_regression": seasonal_regression,
    "calendar_regression": calendar_regression,
}
#: Models that need drivers: left out of a comparison without them.
NEEDS_DRIVERS = frozenset({"calendar_regression"})


def run(
    model: str,
    y: ArrayLike,
    h: int,
    *,
    m: int = 12,
    level: float = 0.9,
    drivers: Mapping[str, ArrayLike] | None = None,
    future: Mapping[str, ArrayLike] | None = None,
) -> Forecast:
    """Forecast ``h`` periods with ``model``; ``drivers`` (over ``y``) and their ``future``
    values go to the models that need them."""
    if model not in MODELS:
        raise InputError(f"unknown model {model!r}; use one of {', '.join(MODELS)}", field="model")
    if model in NEEDS_DRIVERS:
        return MODELS[model](y, h, m=m, level=level, exog=drivers, exog_future=future)
    return MODELS[model](y, h, m=m, level=level)


def candidates(drivers: Mapping[str, ArrayLike] | None) -> list[str]:
    """The models to compare: those needing drivers only when drivers are given."""
    return [name for name in MODELS if drivers or name not in NEEDS_DRIVERS]


def backtest(
    y: ArrayLike,
    model: str,
    *,
    h: int = 12,
    m: int = 12,
    min_train: int = 24,
    level: float = 0.9,
    drivers: Mapping[str, ArrayLike] | None = None,
) -> BackTest:
    """Expanding-window rolling-origin back-test of ``model``.

    For each cutoff c = min_train … T − h, fit on y[:c], forecast h periods, and score.
    MASE scales each window's errors by mean|y_t − y_{t−m}| over that window's training data.
    ``drivers`` run over the whole history; a window's future values are the recorded
    ones (exact for the calendar; for a production plan this is an ex-post test, as if
    the plan had been met).
    """
    if model not in MODELS:
        raise InputError(f"unknown model {model!r}; use one of {', '.join(MODELS)}", field="model")
    data = _series(y, m)
    if min_train < 2 * m:
        raise InputError(f"min_train must be at least two seasons ({2 * m})", field="min_train")
    cutoffs = range(min_train, len(data) - h + 1)
    if not cutoffs:
        raise InputError(
            f"history of {len(data)} periods is too short for h={h} after {min_train}",
            field="history",
        )
    columns = {k: np.asarray(v, dtype=np.float64) for k, v in (drivers or {}).items()}
    if any(len(v) != len(data) for v in columns.values()):
        raise InputError("every driver needs one value per period of history", field="drivers")
    abs_errors, scaled, covered = [], [], []
    for c in cutoffs:
        train, actual = data[:c], data[c : c + h]
        fc = run(model, train, h, m=m, level=level,
                 drivers={k: v[:c] for k, v in columns.items()},
                 future={k: v[c : c + h] for k, v in columns.items()})  # fmt: skip
        err = np.abs(actual - fc.mean)
        scale = float(np.mean(np.abs(train[m:] - train[:-m])))
        abs_errors.append(err)
        scaled.append(err / scale if scale > 0 else np.full_like(err, np.nan))
        covered.append((actual >= fc.lower) & (actual <= fc.upper))
    return BackTest(
        model=model,
        windows=len(cutoffs),
        horizon=h,
        mae=float(np.mean(abs_errors)),
        mase=float(np.nanmean(scaled)),
        coverage=float(np.mean(covered)),
    )


def best_model(
    y: ArrayLike,
    *,
    h: int = 12,
    m: int = 12,
    min_train: int = 24,
    drivers: Mapping[str, ArrayLike] | None = None,
) -> tuple[str, list[BackTest]]:
    """Back-test every model; the one with the lowest MAE wins (seasonal naive on ties)."""
    results = [
        backtest(y, name, h=h, m=m, min_train=min_train, drivers=drivers)
        for name in candidates(drivers)
    ]
    winner = min(results, key=lambda r: (r.mae, r.model != "seasonal_naive"))
    return winner.model, results


@dataclass(frozen=True)
class Outlook:
    """A calendar year's total: the months already measured plus the forecast of the rest.

    ``sd`` combines the forecast months' σ (interval half-width / z) assuming independent
    monthly errors — an approximation: errors of a fitted trend are positively correlated,
    so the true σ of the total is somewhat larger.
    """

    year: int
    model: str
    actual: float
    forecast: float
    sd: float
    months_actual: int
    months_forecast: int

    @property
    def mean(self) -> float:
        return self.actual + self.forecast


def month_index(months: list[str]) -> list[int]:
    """``YYYY-MM`` labels as month numbers (year·12 + month − 1), checked consecutive.

    Raises
    ------
    InputError
        A label is not a month, or months are missing, repeated or out of order.
    """
    out = [month_arithmetic.index(str(label).strip()) for label in months]
    for a, b in zip(out, out[1:], strict=False):
        if b - a != 1:
            raise InputError(
                "monthly history must be consecutive, without missing months", field="month"
            )
    return out


#: Working days of a month: ``days(year, month)``, e.g. ``ShiftCalendar.working_days``.
WorkingDays = Callable[[int, int], int]


def calendar_drivers(
    first: int, count: int, working_days: WorkingDays | None
) -> dict[str, Array] | None:
    """``{"working_days": …}`` for ``count`` months from month number ``first``
    (year·12 + month − 1); None without a calendar."""
    if working_days is None:
        return None
    months = range(first, first + count)
    return {"working_days": np.array([float(working_days(i // 12, i % 12 + 1)) for i in months])}


def year_outlook(
    months: list[str],
    values: ArrayLike,
    year: int,
    *,
    level: float = 0.9,
    working_days: WorkingDays | None = None,
) -> Outlook:
    """Total of ``year`` from a monthly history (``months`` as ``YYYY-MM``, consecutive),
    with the plant's calendar as a driver when ``working_days`` is given.

    Raises
    ------
    InputError
        Months not consecutive, or the history ends after ``year``.
    """
    data = np.asarray(values, dtype=np.float64)
    if len(months) != len(data) or not months:
        raise InputError("months and values differ in length", field="history")
    index = [month_arithmetic.index(m) for m in months]
    if any(b - a != 1 for a, b in zip(index, index[1:], strict=False)):
        raise InputError(
            "monthly history must be consecutive, without missing months", field="history"
        )
    last = index[-1]
    end = year * 12 + 11
    if last > end:
        raise InputError(f"history runs past {year}", field="year")
    in_year = [v for i, v in zip(index, data, strict=True) if i // 12 == year]
    h = end - last
    if h == 0:
        return Outlook(year, "actual", float(sum(in_year)), 0.0, 0.0, len(in_year), 0)
    past = calendar_drivers(index[0], len(data), working_days)
    ahead = calendar_drivers(last + 1, h, working_days)
    winner, _ = best_model(data, h=min(12, max(1, len(data) - 24)), min_train=24, drivers=past)
    fc = run(winner, data, h, level=level, drivers=past, future=ahead)
    return year_total(year, in_year, fc, last + 1)


def year_total(year: int, in_year: Sequence[float], fc: Forecast, first: int) -> Outlook:
    """The outlook of ``year``: the months measured in it (``in_year``) plus the months of
    forecast ``fc`` (which starts at month number ``first``) that fall in it."""
    z = stats.norm_ppf(0.5 + fc.level / 2)
    keep = np.array([(first + k) // 12 == year for k in range(len(fc.mean))])
    sd = float(np.sqrt(np.sum(((fc.upper - fc.mean)[keep] / z) ** 2)))
    return Outlook(
        year,
        fc.model,
        float(sum(in_year)),
        float(fc.mean[keep].sum()),
        sd,
        len(in_year),
        int(keep.sum()),
    )
