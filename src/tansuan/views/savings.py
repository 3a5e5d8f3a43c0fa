"""Verified savings of a node after an intervention (IPMVP Option B/C), read from the
store: the daily energy of the node's meters against a day-type baseline fitted before
the intervention, with the ASHRAE G14 interval and the chart series.

The statistics are :mod:`tansuan.analytics.baseline` and :mod:`tansuan.analytics.savings`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from tansuan.analytics.baseline import day_type_drivers, fit_baseline, summary
from tansuan.analytics.savings import avoided_energy
from tansuan.errors import InputError
from tansuan.views.energy import node_days

__all__ = ["node_days", "savings_report"]


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
    return {
        "intervention": intervention.isoformat(),
        "baseline": summary(model),
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
        "chart": {
            "dates": order,
            "actual_kwh": [float(v) for v in energy],
            "baseline_kwh": [float(v) for v in model.predict(every)],
            "reporting_from": intervention.isoformat(),
            "band_kwh": [float(half)] * len(order),
            "expected_reporting_kwh": [float(v) for v in expected],
        },
    }
