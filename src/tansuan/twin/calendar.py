"""Time grids, local time and shift calendars.

A run is cut into whole local days; each day has its own random stream
(:func:`day_rng`), so a day's values do not depend on how a run is chunked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
US = 1_000_000


def day_rng(seed: int, day: dt.date, stream: int = 0) -> np.random.Generator:
    """The random stream of one local day (reproducible for ``seed``)."""
    return np.random.default_rng([seed, day.toordinal(), stream])


@dataclass(frozen=True)
class DayGrid:
    """The time stamps of one local day at a fixed step.

    Attributes
    ----------
    day : the local date
    ts_us : UTC epoch microseconds of each step's start
    hour : local hour of day as a float [h]
    weekday : 0 = Monday
    """

    day: dt.date
    step_s: int
    ts_us: I64
    hour: F64
    weekday: int

    @property
    def n(self) -> int:
        return int(self.ts_us.size)


def day_grid(day: dt.date, step_s: int, timezone: str) -> DayGrid:
    """Steps of ``step_s`` seconds over local ``day`` in ``timezone``."""
    zone = ZoneInfo(timezone)
    start = dt.datetime.combine(day, dt.time(), zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)
    start_us = int(start.timestamp()) * US
    seconds = int((end - start).total_seconds())
    offsets = np.arange(0, seconds, step_s, dtype=np.int64)
    return DayGrid(day, step_s, start_us + offsets * US, offsets / 3600.0, day.weekday())


def local_days(start: dt.date, end: dt.date) -> list[dt.date]:
    """Local dates from ``start`` up to, not including, ``end``."""
    return [start + dt.timedelta(days=i) for i in range((end - start).days)]


@dataclass(frozen=True)
class ShiftCalendar:
    """When a plant works: shifts on working days, and holidays.

    Parameters
    ----------
    shifts : (start hour, end hour) of each shift, local time [h]
    workdays : working weekdays (0 = Monday)
    holidays : (month, first day, last day) closures, e.g. Spring Festival, National Day
    ramp_h : how long a start/stop ramp lasts [h]
    """

    shifts: tuple[tuple[float, float], ...] = ((7.5, 16.0), (16.0, 23.5))
    workdays: tuple[int, ...] = (0, 1, 2, 3, 4, 5)
    holidays: tuple[tuple[int, int, int], ...] = ((2, 1, 10), (10, 1, 7))
    ramp_h: float = 0.5

    def is_holiday(self, day: dt.date) -> bool:
        return any(m == day.month and a <= day.day <= b for m, a, b in self.holidays)

    def activity(self, grid: DayGrid) -> F64:
        """Share of the plant at work at each step, 0…1 (ramps at shift edges)."""
        if grid.weekday not in self.workdays or self.is_holiday(grid.day):
            return np.zeros(grid.n)
        out = np.zeros(grid.n)
        for start, end in self.shifts:
            up = np.clip((grid.hour - start) / self.ramp_h + 1, 0, 1)
            down = np.clip((end - grid.hour) / self.ramp_h, 0, 1)
            out = np.maximum(out, np.minimum(up, down))
        return out

    def working_hours_per_week(self) -> float:
        return len(self.workdays) * sum(end - start for start, end in self.shifts)
