"""A counter's delta belongs to the time it covers: readings at t1 and t2 give (t1, t2],
split pro rata by time over the hours, days and months that interval overlaps.

The site's zone is Asia/Shanghai (UTC+8, no daylight saving); times below are local.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest

from tansuan.ingest.ingestor import Ingestor
from tansuan.ingest.reading import Reading
from tansuan.site.model import SiteModel
from tansuan.store import Store
from tansuan.store.queries import series
from tests.conftest import site_document

TZ = ZoneInfo("Asia/Shanghai")
POINTS: list[dict[str, object]] = [
    {"id": "hourly", "quantity": "energy", "unit": "kWh", "kind": "total_increasing",
     "interval_s": 3600},
    {"id": "daily", "quantity": "energy", "unit": "kWh", "kind": "total_increasing",
     "interval_s": 86400},
    {"id": "monthly", "quantity": "energy", "unit": "kWh", "kind": "total_increasing",
     "interval_s": 2678400},
    # a 5-digit register: it returns to 0 at 100,000 (the wrap modulus)
    {"id": "wrapping", "quantity": "energy", "unit": "kWh", "kind": "total_increasing",
     "interval_s": 3600, "rollover": 100000},
]  # fmt: skip


@pytest.fixture
def meters(db_url: str) -> Iterator[Store]:
    store = Store(db_url)
    store.load_model(SiteModel.model_validate(site_document(POINTS)), source="test")
    yield store
    store.close()


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)  # type: ignore[misc]


def send(store: Store, point: str, readings: list[tuple[dt.datetime, float]]) -> None:
    result = Ingestor(store).ingest([Reading("site", point, ts, v) for ts, v in readings])
    assert not result.errors


def deltas(
    store: Store, point: str, start: dt.datetime, end: dt.datetime, resolution: str
) -> dict[object, float]:
    with store.read() as connection:
        rows = series(connection, "site", point, start, end, resolution)  # type: ignore[arg-type]
    return {r["period"]: r["delta"] for r in rows if r["delta"]}


def test_hourly_reading_at_midnight_closes_the_year(meters: Store) -> None:
    """Readings 12-31 22:00 = 0, 23:00 = 10, 01-01 00:00 = 30, 01:00 = 60 kWh.
    (22:00, 23:00] = 10 and (23:00, 00:00] = 20 belong to 2025-12-31 (30 kWh, December,
    2025); (00:00, 01:00] = 30 to 2026-01-01. The hour 23:00 holds 20, the hour 00:00 30."""
    send(
        meters,
        "hourly",
        [(local(2025, 12, 31, 22), 0.0), (local(2025, 12, 31, 23), 10.0),
         (local(2026, 1, 1, 0), 30.0), (local(2026, 1, 1, 1), 60.0)],
    )  # fmt: skip
    start, end = local(2025, 12, 31), local(2026, 1, 2)
    assert deltas(meters, "hourly", start, end, "month") == {"2025-12": 30.0, "2026-01": 30.0}
    assert deltas(meters, "hourly", start, end, "day") == {
        dt.date(2025, 12, 31): 30.0,
        dt.date(2026, 1, 1): 30.0,
    }
    hours = deltas(meters, "hourly", start, end, "hour")
    assert hours == {
        local(2025, 12, 31, 22).astimezone(dt.UTC): 10.0,
        local(2025, 12, 31, 23).astimezone(dt.UTC): 20.0,
        local(2026, 1, 1, 0).astimezone(dt.UTC): 30.0,
    }


def test_daily_meter_read_at_midnight(meters: Store) -> None:
    """Read at 00:00: 01-30 = 0, 01-31 = 240, 02-01 = 480, 02-02 = 720 kWh. Each reading
    closes the day before it: 01-30 240, 01-31 240, 02-01 240 — January 480, February
    240 (the reading at 02-01 00:00 belongs to January)."""
    send(
        meters,
        "daily",
        [(local(2026, 1, 30), 0.0), (local(2026, 1, 31), 240.0),
         (local(2026, 2, 1), 480.0), (local(2026, 2, 2), 720.0)],
    )  # fmt: skip
    start, end = local(2026, 1, 29), local(2026, 2, 3)
    assert deltas(meters, "daily", start, end, "day") == {
        dt.date(2026, 1, 30): 240.0,
        dt.date(2026, 1, 31): 240.0,
        dt.date(2026, 2, 1): 240.0,
    }
    assert deltas(meters, "daily", start, end, "month") == {"2026-01": 480.0, "2026-02": 240.0}


def test_daily_meter_read_in_the_morning_is_split_pro_rata(meters: Store) -> None:
    """Read at 08:00: 01-31 = 0, 02-01 = 240 kWh. The interval (01-31 08:00, 02-01 08:00]
    has 16 h in January (160 kWh) and 8 h in February (80 kWh); per hour 10 kWh."""
    send(meters, "daily", [(local(2026, 1, 31, 8), 0.0), (local(2026, 2, 1, 8), 240.0)])
    start, end = local(2026, 1, 31), local(2026, 2, 2)
    assert deltas(meters, "daily", start, end, "month") == pytest.approx(
        {"2026-01": 160.0, "2026-02": 80.0}
    )
    hours = deltas(meters, "daily", start, end, "hour")
    assert len(hours) == 24
    assert all(v == pytest.approx(10.0) for v in hours.values())


def test_monthly_meter_read_on_the_first(meters: Store) -> None:
    """Read at 00:00 on the 1st: 01-01 = 1,000, 02-01 = 4,100, 03-01 = 6,900 kWh.
    January 3,100 (100 per day over 31 days), February 2,800 (100 per day over 28),
    nothing in March yet."""
    send(
        meters,
        "monthly",
        [(local(2026, 1, 1), 1000.0), (local(2026, 2, 1), 4100.0), (local(2026, 3, 1), 6900.0)],
    )
    start, end = local(2026, 1, 1), local(2026, 4, 1)
    assert deltas(meters, "monthly", start, end, "month") == pytest.approx(
        {"2026-01": 3100.0, "2026-02": 2800.0}
    )
    days = deltas(meters, "monthly", start, end, "day")
    assert len(days) == 31 + 28
    assert days[dt.date(2026, 1, 15)] == pytest.approx(100.0)
    assert days[dt.date(2026, 2, 28)] == pytest.approx(100.0)


def test_late_reading_inside_a_long_interval_moves_its_share(meters: Store) -> None:
    """01-01 = 0 and 03-01 = 5,900 kWh first: 59 days, 100 per day — January 3,100,
    February 2,800. Then the 02-01 reading arrives late with 3,500: January 3,500,
    February 2,400."""
    send(meters, "monthly", [(local(2026, 1, 1), 0.0), (local(2026, 3, 1), 5900.0)])
    start, end = local(2026, 1, 1), local(2026, 4, 1)
    assert deltas(meters, "monthly", start, end, "month") == pytest.approx(
        {"2026-01": 3100.0, "2026-02": 2800.0}
    )
    send(meters, "monthly", [(local(2026, 2, 1), 3500.0)])
    assert deltas(meters, "monthly", start, end, "month") == pytest.approx(
        {"2026-01": 3500.0, "2026-02": 2400.0}
    )


def test_rollover_at_the_wrap_value(meters: Store) -> None:
    """'wrapping' has rollover 100,000: the register counts 0 … 99,999.x and returns to 0.
    Hourly 99,980, 99,990, 0, 10: 10, then 100,000 − 99,990 + 0 = 10 (a rollover, not a
    glitch: the next reading continues from 0), then 10. Total 30 kWh."""
    send(
        meters,
        "wrapping",
        [(local(2026, 3, 2, 10), 99_980.0), (local(2026, 3, 2, 11), 99_990.0),
         (local(2026, 3, 2, 12), 0.0), (local(2026, 3, 2, 13), 10.0)],
    )  # fmt: skip
    start, end = local(2026, 3, 2), local(2026, 3, 3)
    assert deltas(meters, "wrapping", start, end, "day") == {dt.date(2026, 3, 2): 30.0}
    with meters.read() as connection:
        day = series(connection, "site", "wrapping", start, end, "day")[0]
    assert day["resets"] == 1
