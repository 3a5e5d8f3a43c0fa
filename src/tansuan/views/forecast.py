"""Monthly forecasts, written once for the web app and the CLI: the emissions forecast of
a site from its accounting results (``GET /forecast``, ``tansuan forecast --emissions``)
and the forecast of any monthly series (``tansuan forecast --csv`` / ``--point``).

:func:`forecast_months` is the pipeline: the plant's working days and, when given, the
production plan as drivers, the model with the lowest rolling-origin back-test MAE, its
forecast with intervals. The models are :mod:`tansuan.analytics.forecast`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from tansuan import clock
from tansuan.accounting.problems import PROBLEM_STATES
from tansuan.accounting.results import current_lines, problem_sets
from tansuan.analytics.forecast import (
    BackTest,
    Forecast,
    WorkingDays,
    best_model,
    calendar_drivers,
    month_index,
    run,
    year_total,
)
from tansuan.domain import units
from tansuan.domain.months import index as month_number
from tansuan.domain.months import index_of, label
from tansuan.domain.months import span as month_span
from tansuan.domain.scope import in_total
from tansuan.errors import InputError, NotFound
from tansuan.views.energy import monthly_series

#: ``plan(history months, future months)`` → (drivers over the history, over the future).
PlanSource = Callable[
    [list[str], list[str]], tuple[dict[str, np.ndarray], dict[str, np.ndarray]] | None
]

#: ``scope`` of :func:`emission_history` for the location-based total (every line but the
#: Scope 2 market-based ones, which are given beside it and never added in).
LOCATION_BASED = "location"


def last_complete_month(zone: Any, now: dt.datetime | None = None) -> str:
    """``YYYY-MM`` of the month before the one under way in ``zone`` (by the calendar
    clock, :mod:`tansuan.clock`): the newest month whose results cover all of it
    (forecasts leave the month under way out)."""
    return label(index_of((now or clock.now(zone)).date()) - 1)


def emission_history(
    connection: Any, site: str, first: str, last: str, *, scope: str | None = LOCATION_BASED
) -> dict[str, float]:
    """Monthly tCO2e of a site's current accounting results from the first to the last
    month that has any in [first, last]; a month without results in between counts as
    missing. ``scope``: :data:`LOCATION_BASED` (Scope 2 market-based lines left out: the
    total), one scope's lines only, or None for every line.

    Raises
    ------
    NotFound
        No results at all in the window.
    InputError
        A month without results between two that have them, or a month with a failed or
        missing source-month (its total would be too small: never read as 0).
    """
    window = month_span(first, last)
    totals: dict[str, float] = {}
    for line in current_lines(connection, site, window):
        kept = (
            scope is None
            or (scope == LOCATION_BASED and in_total(str(line["scope"])))
            or str(line["scope"]) == scope
        )
        if kept:
            totals[line["period"]] = totals.get(line["period"], 0.0) + line["co2e_g"] / 1e6
    if not totals:
        raise NotFound(
            f"没有核算结果 / no accounting results for {site} in {first}..{last}: "
            "run `tansuan account`"
        )
    span = [m for m in window if min(totals) <= m <= max(totals)]
    # A month with a failed or missing source would read as a too-small total: refused.
    unresolved = [p for p in problem_sets(connection, site, span) if p["state"] in PROBLEM_STATES]
    if unresolved:
        listed = "; ".join(f"{p['source_id']} {p['period']}: {p['problem']}" for p in unresolved)
        raise InputError(
            f"核算不完整，不能预测 / incomplete accounting, no forecast: {listed} — "
            f"{unresolved[0]['fix']}",
            field="site",
        )
    if missing := [m for m in span if m not in totals]:
        raise InputError(
            f"缺少核算结果 / no accounting results for {', '.join(missing)}: run `tansuan account`",
            field="site",
        )
    return {m: totals[m] for m in span}


def plan_drivers(
    connection: Any, site_model: Any, months: list[str], future: list[str]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]] | None:
    """The production driver: recorded production over ``months`` and the production plan
    over ``future``; None unless both cover every month."""
    done = monthly_series(connection, site_model, "production")
    plan = monthly_series(connection, site_model, "production_plan")
    if not done or not plan or any(m not in done for m in months):
        return None
    if any(m not in plan for m in future):
        return None
    unit = next(s.unit for s in site_model.series if s.kind == "production")
    plan_unit = next(s.unit for s in site_model.series if s.kind == "production_plan")
    scale = units.factor(plan_unit, unit)
    return (
        {"production": np.array([done[m] for m in months])},
        {"production": np.array([plan[m] * scale for m in future])},
    )


@dataclass(frozen=True)
class MonthForecast:
    """What :func:`forecast_months` found: the winning model, the drivers it had, the
    back-test of every model, the months forecast and the forecast."""

    model: str
    drivers: list[str]
    backtest: list[BackTest]
    months: list[str]
    forecast: Forecast


def forecast_months(
    months: list[str],
    values: np.ndarray,
    horizon: int,
    *,
    level: float = 0.9,
    working_days: WorkingDays | None = None,
    plan: PlanSource | None = None,
) -> MonthForecast:
    """Forecast ``horizon`` months after a consecutive monthly history by the model with
    the lowest back-test MAE. With ``working_days`` (the plant's shift calendar) the
    calendar regression competes; ``plan(history months, future months)`` adds the
    production and its plan as a driver when it covers them (in the back-test the
    recorded production stands in for the plan)."""
    index = month_index(months)
    future = [label(i) for i in range(index[-1] + 1, index[-1] + 1 + horizon)]
    past = calendar_drivers(index[0], len(values), working_days) or {}
    ahead = calendar_drivers(index[-1] + 1, horizon, working_days) or {}
    planned = plan(list(months), future) if plan is not None else None
    if planned is not None:
        past, ahead = past | planned[0], ahead | planned[1]
    h_test = min(12, max(1, len(values) - 24))
    winner, tests = best_model(values, h=h_test, min_train=24, drivers=past or None)
    fc = run(winner, values, horizon, level=level, drivers=past or None, future=ahead or None)
    return MonthForecast(winner, sorted(past), tests, future, fc)


def forecast_report(
    history: dict[str, float],
    year: int,
    *,
    level: float = 0.9,
    working_days: WorkingDays | None = None,
    plan: PlanSource | None = None,
) -> dict[str, Any]:
    """Monthly forecast from the month after the history through December of ``year + 1``
    (:func:`forecast_months`), with intervals, the back-test errors and the outlook of
    ``year`` while the history has not passed it.

    Raises
    ------
    InputError
        Fewer than 25 months of history (the back-test needs two seasons and a test).
    """
    labels = list(history)
    values = np.array(list(history.values()))
    if len(values) < 25:
        raise InputError(
            f"预测至少需要 25 个月的结果 / a forecast needs at least 25 months of results, "
            f"{len(values)} found",
            field="year",
        )
    last = month_number(labels[-1])
    end = (year + 1) * 12 + 11
    if last >= end:
        raise InputError(
            f"结果已覆盖 {year + 1} 年 / the results already cover {year + 1}", field="year"
        )
    done = forecast_months(labels, values, end - last, level=level, working_days=working_days,
                           plan=plan)  # fmt: skip
    fc = done.forecast
    in_year = [v for m, v in history.items() if int(m[:4]) == year]
    outlook = year_total(year, in_year, fc, last + 1) if last <= year * 12 + 11 else None
    return {
        "model": done.model,
        "level": level,
        "drivers": done.drivers,
        "level_shift_from": None if fc.shift_from is None else labels[fc.shift_from],
        "history": [{"month": m, "tco2e": float(v)} for m, v in history.items()],
        "backtest": [t.__dict__ for t in done.backtest],
        "forecast": [
            {"month": m, "mean": float(a), "lower": float(lo), "upper": float(hi)}
            for m, a, lo, hi in zip(done.months, fc.mean, fc.lower, fc.upper, strict=True)
        ],
        "year_total": None
        if outlook is None
        else {"year": year, "actual": outlook.actual, "forecast": outlook.forecast,
              "mean": outlook.mean, "sd": outlook.sd, "months_actual": outlook.months_actual},
    }  # fmt: skip


def site_forecast(
    connection: Any,
    site_model: Any,
    year: int,
    *,
    level: float = 0.9,
    working_days: WorkingDays | None = None,
    with_plan: bool = True,
) -> dict[str, Any]:
    """The emissions forecast of a site (``GET /forecast``): its location-based monthly
    tCO2e from January four years before ``year`` to the last complete month, forecast
    through December of ``year + 1`` (:func:`forecast_report`); the production plan is a
    driver when ``with_plan`` (it runs past any grant's window)."""
    last = min(f"{year}-12", last_complete_month(ZoneInfo(site_model.timezone)))
    history = emission_history(connection, site_model.id, f"{year - 4}-01", last)

    def plan(months: list[str], future: list[str]) -> Any:
        return plan_drivers(connection, site_model, months, future) if with_plan else None

    out = forecast_report(history, year, level=level, working_days=working_days, plan=plan)
    return {"site": site_model.id, "year": year, "unit": "tCO2e"} | out


def series_forecast(
    months: list[str],
    values: np.ndarray,
    horizon: int,
    *,
    level: float = 0.9,
    working_days: WorkingDays | None = None,
    plan: PlanSource | None = None,
    factor_t_per_mwh: float | None = None,
) -> tuple[MonthForecast, dict[str, Any]]:
    """The forecast of any monthly series (``tansuan forecast``) and its record: model,
    drivers, back-test and each month's forecast, with tCO2 at ``factor_t_per_mwh`` when
    the series is energy [kWh]."""
    done = forecast_months(months, values, horizon, level=level, working_days=working_days,
                           plan=plan)  # fmt: skip
    fc, scale = done.forecast, None if factor_t_per_mwh is None else factor_t_per_mwh / 1000.0
    out: dict[str, Any] = {
        "model": done.model,
        "level": level,
        "drivers": done.drivers,
        "backtest": [t.__dict__ for t in done.backtest],
        "forecast": [
            {"month": m, "mean": float(a), "lower": float(lo), "upper": float(hi)}
            | ({} if scale is None else {"tco2": float(a) * scale, "tco2_lower": float(lo) * scale,
                                         "tco2_upper": float(hi) * scale})
            for m, a, lo, hi in zip(done.months, fc.mean, fc.lower, fc.upper, strict=True)
        ],
    }  # fmt: skip
    return done, out
