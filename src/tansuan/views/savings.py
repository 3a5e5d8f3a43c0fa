"""Verified savings of a node after an intervention (IPMVP Option B/C), read from the
store: the daily energy of the node's meters against a day-type baseline fitted before
the intervention, with the ASHRAE G14 interval and the chart series; and the baseline,
CUSUM and savings of any daily series (``tansuan analyse``).

The statistics are :mod:`tansuan.analytics.baseline` and :mod:`tansuan.analytics.savings`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from tansuan.analytics.baseline import Baseline, day_type_drivers, fit_baseline, summary
from tansuan.analytics.cusum import cusum, degradation
from tansuan.analytics.savings import avoided_energy
from tansuan.analytics.verification import verdict
from tansuan.errors import InputError
from tansuan.views.energy import node_days

__all__ = ["node_days", "savings_report", "series_analysis"]


def savings_report(
    days: dict[str, float],
    intervention: dt.date,
    *,
    option: str = "B",
    confidence: float = 0.9,
    factor_t_per_mwh: float | None = None,
) -> dict[str, Any]:
    """IPMVP avoided energy after ``intervention`` from a daily kWh series, with its
    ASHRAE G14 interval and the chart series (actual vs adjusted baseline with band).

    The baseline is the mean daily energy with a weekday/weekend driver when both occur
    before the intervention (no external drivers are read here; the CLI ``tansuan analyse``
    takes any).

    ``verifiable`` and ``failing`` say whether the baseline meets ASHRAE Guideline 14's
    calibration criteria for daily data (:func:`tansuan.analytics.verification.verdict`);
    when it does not, the figures are still given but are not verified savings (IPMVP).
    """
    if option not in ("B", "C"):
        raise InputError(f"IPMVP option must be B or C, got {option!r}", field="option")
    order = sorted(days)
    dates = [dt.date.fromisoformat(d) for d in order]
    energy = np.array([days[d] for d in order])
    base = np.array([d < intervention for d in dates])
    if base.sum() < 3 or (~base).sum() < 1:
        raise InputError(
            "改造前至少 3 天、改造后至少 1 天数据 / need at least 3 baseline days before and a "
            "reporting day after the intervention",
            field="intervention",
        )
    fit, every = day_type_drivers(dates, base)
    model = fit_baseline(energy[base], fit)
    rep = {k: v[~base] for k, v in every.items()}
    result = avoided_energy(
        model,
        energy[~base],
        rep,
        option=option,  # type: ignore[arg-type]
        confidence=confidence,
        factor_t_per_unit=None if factor_t_per_mwh is None else factor_t_per_mwh / 1000.0,
    )
    expected = model.predict(rep)
    # The band of the adjusted baseline per day: the interval of the total, spread evenly.
    half = (result.interval[1] - result.interval[0]) / 2.0 / max(1, int((~base).sum()))
    base_summary = summary(model)
    return {
        "intervention": intervention.isoformat(),
        "baseline": base_summary,
        "option": result.option,
        "adjusted_baseline_kwh": result.adjusted_baseline,
        "reporting_kwh": result.reporting,
        "avoided_kwh": result.avoided,
        "fraction": result.fraction,
        "interval_kwh": list(result.interval),
        "fraction_interval": list(result.fraction_interval),
        "confidence": result.confidence,
        "fsu": result.fsu,
        "avoided_tco2e": result.avoided_tco2e,
        "method": result.method,
        **verdict(base_summary, "daily").as_dict(),
        "chart": {
            "dates": order,
            "actual_kwh": [float(v) for v in energy],
            "baseline_kwh": [float(v) for v in model.predict(every)],
            "reporting_from": intervention.isoformat(),
            "band_kwh": [float(half)] * len(order),
            "expected_reporting_kwh": [float(v) for v in expected],
        },
    }


def series_analysis(
    days: list[str],
    energy: np.ndarray,
    drivers: dict[str, np.ndarray],
    cut: dt.date,
    *,
    intervention: dt.date | None = None,
    option: str = "B",
    confidence: float = 0.9,
    factor_t_per_mwh: float | None = None,
) -> dict[str, Any]:
    """Baseline, CUSUM and savings of one daily energy series (``tansuan analyse``): the
    ISO 50006 regression on ``drivers`` (else the day type) fitted on the days before
    ``cut``, its criteria, the CUSUM of the days after it with any sustained degradation,
    and with ``intervention`` the IPMVP avoided energy and its G14 uncertainty, with the
    G14 verdict on the baseline (``savings.verifiable``, ``savings.failing``)."""
    dates = [dt.date.fromisoformat(d) for d in days]
    base_mask = np.array([d < cut for d in dates])
    if base_mask.sum() < 3 or (~base_mask).sum() < 1:
        raise InputError(
            "need baseline days before and reporting days after the cut", field="baseline-end"
        )
    if not drivers:
        # No measured driver: the day type (weekday / weekend), as on the dashboard.
        fit, drivers = day_type_drivers(dates, base_mask)
    else:
        fit = {k: v[base_mask] for k, v in drivers.items()}
    model = fit_baseline(energy[base_mask], fit)
    out: dict[str, Any] = {
        "days": len(days),
        "drivers": sorted(k for k in fit),
        "baseline": summary(model),
    }
    rep = {k: v[~base_mask] for k, v in drivers.items()}
    post_months = max(1.0, float((~base_mask).sum()) / 30.4)
    checks = [model.g14_regression(post_months), *model.doe_checks(rep)]
    out["checks"] = [c.__dict__ for c in checks]
    expected = model.predict(rep)
    chart = cusum(energy[~base_mask], expected, model.rmse)
    found = degradation(chart)
    rep_dates = [d for d, b in zip(dates, base_mask, strict=True) if not b]
    out["cusum"] = {
        "sign": "actual - expected (up = over-consumption)",
        "final": float(chart.cumulative[-1]),
        "chart": {
            "dates": [d.isoformat() for d in rep_dates],
            "expected": [float(v) for v in expected],
            "cusum": [float(v) for v in chart.cumulative],
        },
        "alarms": [
            {
                "direction": a.direction,
                "alarm": rep_dates[a.alarm_index].isoformat(),
                "start": rep_dates[a.start_index].isoformat(),
            }
            for a in chart.detections
        ],  # fmt: skip
        "degradation": None
        if found is None
        else {
            "start": rep_dates[found.start_index].isoformat(),
            "detected": rep_dates[found.alarm_index].isoformat(),
            "shift_fraction": found.shift_fraction,
        },
    }
    if intervention is not None:
        out["savings"] = _series_savings(model, energy, drivers, dates, intervention,
                                         option, confidence, factor_t_per_mwh)  # fmt: skip
        out["savings"] |= verdict(out["baseline"], "daily").as_dict()
    return out


def _series_savings(
    model: Baseline,
    energy: np.ndarray,
    drivers: dict[str, np.ndarray],
    dates: list[dt.date],
    day: dt.date,
    option: str,
    confidence: float,
    factor: float | None,
) -> dict[str, Any]:
    """IPMVP avoided energy on and after ``day`` against ``model`` (in the series' unit)."""
    mask = np.array([d >= day for d in dates])
    if not mask.any():
        raise InputError("no reporting days on or after the intervention", field="intervention")
    if option not in ("B", "C"):
        raise InputError(f"IPMVP option must be B or C, got {option!r}", field="option")
    result = avoided_energy(
        model,
        energy[mask],
        {k: v[mask] for k, v in drivers.items()},
        option=option,  # type: ignore[arg-type]
        confidence=confidence,
        factor_t_per_unit=None if factor is None else factor / 1000.0,
    )
    return {
        "option": result.option,
        "adjusted_baseline": result.adjusted_baseline,
        "reporting": result.reporting,
        "avoided": result.avoided,
        "fraction": result.fraction,
        "interval": list(result.interval),
        "fraction_interval": list(result.fraction_interval),
        "confidence": result.confidence,
        "fsu": result.fsu,
        "avoided_tco2e": result.avoided_tco2e,
        "method": result.method,
    }
