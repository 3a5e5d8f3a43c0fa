"""The one ingest path: conversion, validation, quarantine, dedupe, versions, hooks."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import select

from tansuan.errors import StoreError
from tansuan.ingest.ingestor import Ingestor
from tansuan.ingest.reading import Reading
from tansuan.store import batch_rows, schema
from tansuan.store.queries import series

T0 = dt.datetime(2026, 11, 1, 0, 0, tzinfo=dt.UTC)


def minutes(m: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=m)


def rows_of(store, table: str) -> list[tuple]:
    with store.read() as connection:
        return [tuple(r) for r in connection.exec_driver_sql(f"SELECT * FROM {table}")]


@pytest.mark.real_clock("ingest judges a reading from the future against the real clock")
def test_units_are_converted_and_bad_rows_quarantined_without_blocking(store) -> None:
    ingestor = Ingestor(store)
    result = ingestor.ingest(
        [
            Reading("site", "power", minutes(0), 500_000, unit="W"),  # 500 kW
            Reading("site", "power", minutes(1), 2, unit="kWh"),  # wrong dimension
            Reading("site", "power", minutes(2), 1500),  # above valid_range [0, 1000]
            Reading("site", "power", minutes(3), float("nan")),
            Reading("site", "nope", minutes(4), 1),
            Reading("site", "power", minutes(5), 1, quality="X"),
            Reading("site", "power", minutes(6), 1, unit="furlongs"),
            Reading("site", "power", dt.datetime(2026, 11, 1), 1),  # naive
            Reading("site", "power", minutes(7), 0.25, unit="MW"),  # 250 kW
            Reading("site", "power", dt.datetime(1999, 12, 31, tzinfo=dt.UTC), 1),
            Reading("site", "power", dt.datetime.now(dt.UTC) + dt.timedelta(days=2), 1),
        ]
    )
    assert result.new == 2
    assert [(e.index, e.code) for e in result.errors] == [
        (1, "bad_unit"),
        (2, "out_of_range"),
        (3, "bad_value"),
        (4, "unknown_point"),
        (5, "bad_quality"),
        (6, "bad_unit"),
        (7, "bad_timestamp"),
        (9, "bad_timestamp"),
        (10, "future_timestamp"),
    ]
    assert "kWh" in result.errors[0].detail and "kW" in result.errors[0].detail
    with store.read() as connection:
        values = series(connection, "site", "power", T0, minutes(60), "raw")
        reasons = connection.exec_driver_sql(
            "SELECT row_index, reason FROM quarantine ORDER BY row_index"
        ).all()
    assert [v["value"] for v in values] == [500.0, 250.0]
    assert [tuple(r) for r in reasons] == [(e.index, e.code) for e in result.errors]


def test_identical_resend_is_a_no_op_and_a_change_is_a_new_version(store) -> None:
    ingestor = Ingestor(store)
    batch = [Reading("site", "power", minutes(i), 10.0 + i) for i in range(5)]
    first = ingestor.ingest(batch)
    hours_before = rows_of(store, "rollup_hour")
    again = ingestor.ingest(batch)
    assert (again.new, again.duplicates, again.versioned) == (0, 5, 0)
    assert rows_of(store, "rollup_hour") == hours_before
    fixed = ingestor.ingest([Reading("site", "power", minutes(2), 99.0)])
    assert (fixed.new, fixed.versioned) == (0, 1)
    with store.read() as connection:
        raw = series(connection, "site", "power", T0, minutes(60), "raw")
        hour = series(connection, "site", "power", T0, minutes(60), "hour")[0]
        old = connection.exec_driver_sql(
            "SELECT value, version, batch_id, superseded_by_batch FROM reading_version"
        ).all()
        kept = batch_rows(connection, first.batch_id)
    assert [r["value"] for r in raw] == [10.0, 11.0, 99.0, 13.0, 14.0]
    assert raw[2]["version"] == 2
    assert [tuple(r) for r in old] == [(12.0, 1, first.batch_id, fixed.batch_id)]
    # Hand check: 10 + 11 + 99 + 13 + 14 = 147; min 10, max 99.
    assert (hour["n"], hour["sum"], hour["min"], hour["max"]) == (5, 147.0, 10.0, 99.0)
    # The first batch still lists what it stored, including the superseded value.
    assert [(r[1], r[3], r[5]) for r in kept][2] == ("power", 12.0, 1)


def test_late_and_out_of_order_rows_are_accepted(store) -> None:
    ingestor = Ingestor(store)
    ingestor.ingest([Reading("site", "energy", minutes(m), v) for m, v in ((0, 100), (20, 120))])
    ingestor.ingest([Reading("site", "energy", minutes(10), 105)])  # late, between the two
    with store.read() as connection:
        hour = series(connection, "site", "energy", T0, minutes(60), "hour")[0]
    # Deltas: first reading 0; 100 -> 105 = 5; 105 -> 120 = 15; total 20 (same as 120 - 100).
    assert hour["delta"] == 20.0
    assert (hour["n"], hour["first"], hour["last"]) == (3, 100.0, 120.0)


def test_a_different_reading_of_the_same_point_and_ts_in_one_batch_is_the_next_version(
    store,
) -> None:
    # Same outcome as sending them one batch each: 1.0 (v1), duplicate, 2.0 (v2), 3.0 (v3).
    rows = [(0, 1.0), (0, 1.0), (0, 2.0), (1, 5.0), (0, 3.0)]
    together = Ingestor(store).ingest([Reading("site", "power", minutes(m), v) for m, v in rows])
    assert together.errors == []
    assert (together.new, together.duplicates, together.versioned) == (2, 1, 2)
    with store.read() as connection:
        stored = [
            (r.ts_us, r.value, r.version)
            for r in connection.execute(
                select(
                    schema.reading.c.ts_us, schema.reading.c.value, schema.reading.c.version
                ).order_by(schema.reading.c.ts_us)
            )
        ]
        old = sorted(
            (r.value, r.version)
            for r in connection.execute(
                select(schema.reading_version.c.value, schema.reading_version.c.version)
            )
        )
        hour = series(connection, "site", "power", T0, minutes(60), "hour")[0]
    assert [(v, n) for _, v, n in stored] == [(3.0, 3), (5.0, 1)]
    assert old == [(1.0, 1), (2.0, 2)]
    assert (hour["n"], hour["sum"]) == (2, 8.0)  # the rollup counts the current versions


def test_invalid_flags_are_stored_but_not_counted_as_valid(store) -> None:
    Ingestor(store).ingest(
        [
            Reading("site", "power", minutes(0), 10.0),
            Reading("site", "power", minutes(1), 900.0, quality="D"),  # instrument fault
            Reading("site", "power", minutes(2), 20.0),
        ]
    )
    with store.read() as connection:
        hour = series(connection, "site", "power", T0, minutes(60), "hour")[0]
    assert (hour["n"], hour["n_valid"], hour["sum"], hour["max"]) == (3, 2, 30.0, 20.0)


def test_hook_sees_the_rows_inside_the_transaction_and_can_veto_the_batch(store) -> None:
    seen: list[tuple[int, list[tuple]]] = []

    def ledger(connection, batch_id, rows) -> None:
        # Inside the transaction: the batch's rows are already visible to it.
        assert batch_rows(connection, batch_id) == rows.tuples()
        seen.append((batch_id, rows.tuples()))

    ingestor = Ingestor(store, batch_hooks=[ledger])
    result = ingestor.ingest(
        [Reading("site", "power", minutes(1), 5.0), Reading("site", "fuel", minutes(0), 2.0)]
    )
    assert seen == [
        (
            result.batch_id,
            [
                ("site", "fuel", minutes(0), 2.0, "N", 1),
                ("site", "power", minutes(1), 5.0, "N", 1),
            ],
        )
    ]

    def refuse(connection, batch_id, rows) -> None:
        raise RuntimeError("ledger unavailable")

    before = {t: rows_of(store, t) for t in ("reading", "reading_staging", "rollup_hour")}
    with pytest.raises(RuntimeError):
        Ingestor(store, batch_hooks=[refuse]).ingest([Reading("site", "power", minutes(2), 7.0)])
    assert {t: rows_of(store, t) for t in before} == before
    # The first ingestor still works after another one rolled back.
    assert ingestor.ingest([Reading("site", "power", minutes(3), 8.0)]).new == 1


def test_columnar_path_and_threads(store) -> None:
    import threading

    ingestor = Ingestor(store)
    base = int(T0.timestamp()) * 1_000_000

    def send(k: int) -> None:
        ts = base + (np.arange(200) * 4 + k) * 60_000_000
        ingestor.ingest_columns("site", ["power"] * 200, ts, np.full(200, float(k)))

    threads = [threading.Thread(target=send, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with store.read() as connection:
        day = series(connection, "site", "power", T0, T0 + dt.timedelta(days=1), "day")
    assert sum(d["n"] for d in day) == 800
    assert sum(d["sum"] for d in day) == 200 * (0 + 1 + 2 + 3)


def test_store_errors_are_translated(tmp_path) -> None:
    from tansuan.store import Store

    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(StoreError):
        with store.write() as connection:
            connection.exec_driver_sql("INSERT INTO no_such_table VALUES (1)")
    assert schema.reading.name == "reading"
    store.close()


def test_two_writers_on_one_store_keep_rollups_right(store) -> None:
    """Two ingestors (as two processes would) append to the same counter in turns.

    energy: minutes 0-4 = 0, 10, 20, 30, 40 (writer A), 5-9 = 50 … 90 (writer B),
    10-14 = 100 … 140 (writer A again, whose memory of the point is stale).
    Consumption = 140 - 0 = 140 kWh; rollover 1000 is never reached.
    """
    a, b = Ingestor(store), Ingestor(store)
    for writer, minutes_range in ((a, range(0, 5)), (b, range(5, 10)), (a, range(10, 15))):
        result = writer.ingest(
            [Reading("site", "energy", minutes(m), 10.0 * m) for m in minutes_range]
        )
        assert result.new == 5
    with store.read() as connection:
        hour = series(connection, "site", "energy", T0, minutes(60), "hour")[0]
    assert (hour["n"], hour["delta"], hour["resets"]) == (15, 140.0, 0)


def test_statistics_are_refreshed_after_bulk_loads(store) -> None:
    ingestor = Ingestor(store, compact_rows=10)
    ingestor.ingest([Reading("site", "power", minutes(m), 1.0) for m in range(12)])
    with store.read() as connection:
        if store.is_sqlite:
            analysed = connection.exec_driver_sql(
                "SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'rollup_hour'"
            ).scalar()
        else:
            # reltuples is -1 until the table is first analysed (PostgreSQL >= 14).
            analysed = connection.exec_driver_sql(
                "SELECT count(*) FROM pg_class WHERE oid = 'rollup_hour'::regclass "
                "AND reltuples >= 0"
            ).scalar()
    assert analysed == 1
