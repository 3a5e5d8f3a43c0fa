"""Time in the store: integer epoch microseconds (UTC) and local days ``YYYYMMDD``.

Days and months are cut in the site's time zone (DESIGN.md invariant "Time"); hours are
UTC hours. All zone offsets in use are whole quarter-hours, so a timestamp's local day
is found once per quarter-hour and spread over the rows with numpy.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from tansuan.errors import InputError

US = 1_000_000
HOUR_US = 3600 * US
DAY_US = 24 * HOUR_US
_QUARTER_US = 900 * US
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def to_us(ts: dt.datetime, *, field: str = "ts") -> int:
    """An aware datetime as integer epoch microseconds; a naive one is refused."""
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise InputError("timestamp has no time zone (send UTC, e.g. ...Z)", field=field)
    delta = ts - EPOCH
    return (delta.days * 86400 + delta.seconds) * US + delta.microseconds


def from_us(ts_us: int) -> dt.datetime:
    """Epoch microseconds as an aware UTC datetime."""
    return EPOCH + dt.timedelta(microseconds=int(ts_us))


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_day(ts_us: int, tz: str) -> int:
    """The local date of one timestamp as ``YYYYMMDD``."""
    local = from_us(ts_us).astimezone(zone(tz))
    return local.year * 10000 + local.month * 100 + local.day


def local_days(ts_us: npt.NDArray[np.int64], tz: str) -> npt.NDArray[np.int64]:
    """Local dates ``YYYYMMDD`` of many timestamps (one zone lookup per quarter-hour)."""
    if ts_us.size == 0:
        return np.zeros(0, dtype=np.int64)
    quarters = np.floor_divide(ts_us, _QUARTER_US)
    unique, inverse = np.unique(quarters, return_inverse=True)
    days = np.fromiter(
        (local_day(int(q) * _QUARTER_US, tz) for q in unique), dtype=np.int64, count=unique.size
    )
    return days[inverse]


def day_start_us(day: int, tz: str) -> int:
    """Start of the local day ``YYYYMMDD`` in epoch microseconds."""
    local = dt.datetime(day // 10000, day // 100 % 100, day % 100, tzinfo=zone(tz))
    return to_us(local)


def next_day(day: int) -> int:
    date = dt.date(day // 10000, day // 100 % 100, day % 100) + dt.timedelta(days=1)
    return date.year * 10000 + date.month * 100 + date.day


def day_of(date: dt.date) -> int:
    return date.year * 10000 + date.month * 100 + date.day


def date_of(day: int) -> dt.date:
    return dt.date(day // 10000, day // 100 % 100, day % 100)


def parse_iso(text: str) -> int:
    """ISO 8601 text with an offset (``2026-11-26T08:00:00+08:00`` or ``…Z``) to epoch µs."""
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"not an ISO 8601 timestamp: {text!r}", field="ts") from None
    return to_us(parsed)
