"""Queries: series at each resolution with days cut in the site's zone, subtree
aggregates, coverage."""

from __future__ import annotations

import datetime as dt

from tansuan.ingest.ingestor import Ingestor
from tansuan.ingest.reading import Reading
from tansuan.store import Store
from tansuan.store.queries import aggregate, coverage, series

UTC = dt.UTC
SH = dt.timezone(dt.timedelta(hours=8))


def test_days_and_months_are_cut_in_local_time(store: Store) -> None:
    """'fuel' is a total point. Readings (UTC): 10-31 15:30 -> 1 t, 10-31 16:30 -> 2 t,
    11-01 10:00 -> 4 t. In Asia/Shanghai (UTC+8) the first is 10-31 23:30 and the other
    two are on 11-01: days 2026-10-31 = 1 t, 2026-11-01 = 6 t; months Oct 1 t, Nov 6 t.
    Hours are UTC: 15:00 -> 1, 16:00 -> 2, 10:00 -> 4."""
    Ingestor(store).ingest(
        [
            Reading("site", "fuel", dt.datetime(2026, 10, 31, 15, 30, tzinfo=UTC), 1.0),
            Reading("site", "fuel", dt.datetime(2026, 10, 31, 16, 30, tzinfo=UTC), 2.0),
            Reading("site", "fuel", dt.datetime(2026, 11, 1, 10, 0, tzinfo=UTC), 4.0),
        ]
    )
    start, end = dt.datetime(2026, 10, 1, tzinfo=SH), dt.datetime(2026, 12, 1, tzinfo=SH)
    with store.read() as c:
        days = series(c, "site", "fuel", start, end, "day")
        months = series(c, "site", "fuel", start, end, "month")
        hours = series(c, "site", "fuel", start, end, "hour")
        raw = series(c, "site", "fuel", start, end, "raw")
    assert [(d["period"], d["delta"]) for d in days] == [
        (dt.date(2026, 10, 31), 1.0),
        (dt.date(2026, 11, 1), 6.0),
    ]
    assert [(m["period"], m["delta"], m["n"]) for m in months] == [
        ("2026-10", 1.0, 1),
        ("2026-11", 6.0, 2),
    ]
    assert [(h["period"].hour, h["sum"]) for h in hours] == [(15, 1.0), (16, 2.0), (10, 4.0)]
    assert [r["value"] for r in raw] == [1.0, 2.0, 4.0]
    if not store.is_sqlite:  # PostgreSQL: one partition per UTC month, made on demand
        with store.read() as c:
            partitions = c.exec_driver_sql(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'reading'::regclass ORDER BY 1"
            ).scalars()
            assert list(partitions) == ["reading_202610", "reading_202611"]


def test_aggregate_over_subtrees(store: Store) -> None:
    """'energy' (dev-1, under shop/line-1) rises 0 -> 10 -> 30 kWh: 30 kWh.
    'b.energy' (dev-2, directly under shop) rises 5 -> 12: 7 kWh.
    Subtree line-1 = 30; dev-2 = 7; shop (both) = 37; whole site = 37."""
    t = dt.datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    step = dt.timedelta(minutes=15)
    Ingestor(store).ingest(
        [Reading("site", "energy", t + i * step, v) for i, v in enumerate((0, 10, 30))]
        + [Reading("site", "b.energy", t + i * step, v) for i, v in enumerate((5, 12))]
    )
    start, end = dt.datetime(2026, 11, 2, tzinfo=SH), dt.datetime(2026, 11, 3, tzinfo=SH)
    with store.read() as c:
        for node, expected in (("line-1", 30.0), ("dev-2", 7.0), ("shop", 37.0), (None, 37.0)):
            rows = aggregate(c, "site", node, start, end, "day", quantity="energy")
            assert [(r["delta"], r["unit"]) for r in rows] == [(expected, "kWh")], node
        assert aggregate(c, "site", "shop", start, end, "month")[0]["period"] == "2026-11"


def test_coverage_counts_expected_and_received(store: Store) -> None:
    """'power' expects a reading every 60 s: 1440 a day, 60 an hour. 30 valid readings
    and 1 invalid (flag D) in the first local hour of 2026-11-03 (16:00 UTC on 11-02)."""
    t = dt.datetime(2026, 11, 2, 16, 0, tzinfo=UTC)
    readings = [Reading("site", "power", t + dt.timedelta(minutes=2 * i), 5.0) for i in range(30)]
    readings.append(Reading("site", "power", t + dt.timedelta(minutes=1), 5.0, quality="D"))
    Ingestor(store).ingest(readings)
    start = dt.datetime(2026, 11, 3, tzinfo=SH)
    with store.read() as c:
        days = coverage(c, "site", "power", start, start + dt.timedelta(days=2), "day")
        hours = coverage(c, "site", "power", start, start + dt.timedelta(hours=2), "hour")
    assert [(d["expected"], d["received"], d["valid"]) for d in days] == [
        (1440.0, 31, 30),
        (1440.0, 0, 0),
    ]
    assert days[0]["ratio"] == 30 / 1440
    assert [(h["expected"], h["received"], h["valid"]) for h in hours] == [
        (60.0, 31, 30),
        (60.0, 0, 0),
    ]
