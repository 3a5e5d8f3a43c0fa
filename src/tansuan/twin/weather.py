"""A seeded synthetic outdoor temperature series, like Xiamen's (subtropical, coastal).

Annual mean, annual amplitude (coldest in late January), daily amplitude (warmest at
about 14:00) and a day-to-day AR(1) weather anomaly. The defaults are round climate
numbers for Xiamen, good enough to drive weather-dependent loads; they are not data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from tansuan.twin.calendar import F64, DayGrid, day_rng

#: Stream number of the weather's random draws (see :func:`~.calendar.day_rng`).
STREAM = 1


@dataclass(frozen=True)
class Climate:
    """Parameters of the synthetic temperature [°C]."""

    mean_c: float = 21.0
    annual_amplitude_c: float = 7.5
    coldest_day_of_year: int = 25
    daily_amplitude_c: float = 3.5
    anomaly_sd_c: float = 1.8
    anomaly_persistence: float = 0.7


XIAMEN = Climate()


def _anomaly(seed: int, day: dt.date, climate: Climate) -> float:
    """Day's weather anomaly: AR(1) over the 10 preceding days' seeded shocks."""
    value = 0.0
    for back in range(10, -1, -1):
        shock = day_rng(seed, day - dt.timedelta(days=back), STREAM).standard_normal()
        value = climate.anomaly_persistence * value + shock * climate.anomaly_sd_c * np.sqrt(
            1 - climate.anomaly_persistence**2
        )
    return float(value)


def temperature(seed: int, grid: DayGrid, climate: Climate = XIAMEN) -> F64:
    """Outdoor temperature at each step of ``grid`` [°C]."""
    doy = grid.day.timetuple().tm_yday + grid.hour / 24.0
    seasonal = climate.mean_c - climate.annual_amplitude_c * np.cos(
        2 * np.pi * (doy - climate.coldest_day_of_year) / 365.25
    )
    daily = climate.daily_amplitude_c * np.cos(2 * np.pi * (grid.hour - 14.0) / 24.0)
    return np.asarray(seasonal + daily + _anomaly(seed, grid.day, climate), dtype=np.float64)
