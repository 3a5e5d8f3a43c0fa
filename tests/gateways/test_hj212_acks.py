"""A 9014 answer means stored: the HJ 212 gateway over a real socket into the real ingest.

Two uploads of one logger for one DataTime with different values are the same readings
whether they reach the store in one group commit (one TCP write) or in two (the second
sent after the first was answered): the later one is the next version of the reading.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import Table, select

from tansuan.gateways.base import COUNTERS
from tansuan.gateways.hj212 import codec
from tansuan.gateways.hj212.client import Hj212Client
from tansuan.ingest.ingestor import Ingestor
from tansuan.store import Store, schema

from .hj212_fixtures import PW, mn, read_answer, running, site_model

FIRST = {"a05001": {"Avg": 80.5, "Flag": "N"}}
SECOND = {"a05001": {"Avg": 91.25, "Flag": "N"}}
#: Two DataTimes (site zone Asia/Shanghai): one for each way of sending.
TOGETHER, APART = "20240101100100", "20240101100200"


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = Store(db_url)
    opened.load_model(site_model(1), source="test")
    yield opened
    opened.close()


def stored(store: Store, data_time: str) -> tuple[list[tuple[float, int]], list[tuple[float, int]]]:
    """(current, superseded) ``(value, version)`` of s0.co2 at ``data_time`` (current
    rows are in ``reading`` or, on SQLite, not yet compacted in ``reading_staging``)."""
    local = dt.datetime.strptime(data_time, "%Y%m%d%H%M%S")
    ts = int(local.replace(tzinfo=dt.timezone(dt.timedelta(hours=8))).timestamp()) * 1_000_000
    with store.read() as connection:

        def rows(*tables: Table) -> list[tuple[float, int]]:
            return sorted(
                (row.value, row.version)
                for table in tables
                for row in connection.execute(
                    select(table.c.value, table.c.version).where(table.c.ts_us == ts)
                )
            )

        return rows(schema.reading, schema.reading_staging), rows(schema.reading_version)


def test_two_uploads_in_one_write_are_stored_as_if_sent_apart(store: Store) -> None:
    ingestor = Ingestor(store)

    async def scenario() -> None:
        async with running(site_model(1), ingestor.ingest) as server:
            client = Hj212Client("127.0.0.1", server.port, mn=mn(0), pw=PW)
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            # One write: both uploads land in one group commit.
            writer.write(
                client.upload_packet("2051", TOGETHER, FIRST, qn="20240101100130001")
                + client.upload_packet("2051", TOGETHER, SECOND, qn="20240101100130002")
            )
            answers = [codec.decode(await read_answer(reader)) for _ in range(2)]
            assert [(a.cn, a.qn) for a in answers] == [
                ("9014", "20240101100130001"),
                ("9014", "20240101100130002"),
            ]
            # Both answered: both readings are in the store, the later one current.
            assert stored(store, TOGETHER) == ([(91.25, 2)], [(80.5, 1)])
            # Apart: the second is sent only after the first was answered.
            writer.write(client.upload_packet("2051", APART, FIRST, qn="20240101100230001"))
            assert codec.decode(await read_answer(reader)).cn == "9014"
            assert stored(store, APART) == ([(80.5, 1)], [])
            writer.write(client.upload_packet("2051", APART, SECOND, qn="20240101100230002"))
            assert codec.decode(await read_answer(reader)).cn == "9014"
            writer.close()
            await writer.wait_closed()

    asyncio.run(scenario())
    assert stored(store, TOGETHER) == stored(store, APART) == ([(91.25, 2)], [(80.5, 1)])
    with store.read() as connection:
        assert connection.execute(select(schema.quarantine)).first() is None


def test_a_reading_ingest_quarantines_is_counted_and_logged(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """80.5 against a ``valid_range`` of 0–50: the gateway passes it on (it only counts the
    implausible value), ingest quarantines it ``out_of_range`` and the gateway counts and
    logs that. (A DataTime in the future, the earlier example, is now refused at the
    gateway with 9011 and never reaches ingest.)"""
    model = site_model(1, co2_range=(0.0, 50.0))
    store = Store(db_url)
    store.load_model(model, source="test")
    before = COUNTERS.get("tansuan_hj212_quarantined_total", reason="out_of_range")
    ingestor = Ingestor(store)

    async def scenario() -> None:
        async with running(model, ingestor.ingest) as server:
            async with Hj212Client("127.0.0.1", server.port, mn=mn(0), pw=PW) as client:
                answer = await client.upload("2051", TOGETHER, FIRST)
                assert answer is not None and answer.cn == "9014"

    try:
        with caplog.at_level(logging.WARNING, logger="tansuan.gateways.hj212.server"):
            asyncio.run(scenario())
    finally:
        store.close()
    assert COUNTERS.get("tansuan_hj212_quarantined_total", reason="out_of_range") == before + 1
    assert any("quarantined 1 of 1 readings" in r.getMessage() for r in caplog.records)


def test_an_hourly_upload_for_a_minute_point_is_quarantined_not_dropped(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 18 #17: s0.co2 (a05001, interval_s left at its default 60 s) receives only an
    hourly upload (CN=2061). On main it was answered 9014 and dropped with nothing logged.
    Now: answered 9014 after commit, the value kept in ingest's quarantine with reason
    ``interval_mismatch`` (never among the readings), logged, counted on /metrics and
    listed by the quality page. Once a minute upload has fed the point, the next hourly
    upload is a second view of its data: counted ignored, not quarantined again."""
    from tansuan.views.quality import site_quality

    model = site_model(1)
    store = Store(db_url)
    store.load_model(model, source="test")
    before = COUNTERS.get("tansuan_hj212_quarantined_total", reason="interval_mismatch")
    ignored = COUNTERS.get("tansuan_hj212_ignored_total", reason="coarser_interval")
    ingestor = Ingestor(store)

    async def scenario() -> None:
        async with running(model, ingestor.ingest) as server:
            async with Hj212Client("127.0.0.1", server.port, mn=mn(0), pw=PW) as client:
                hourly = await client.upload("2061", "20240101100000", {"a05001": {"Avg": 77.5}})
                assert hourly is not None and hourly.cn == "9014"
                minute = await client.upload("2051", "20240101110100", FIRST)
                assert minute is not None and minute.cn == "9014"
                again = await client.upload("2061", "20240101110000", {"a05001": {"Avg": 78.0}})
                assert again is not None and again.cn == "9014"

    try:
        with caplog.at_level(logging.WARNING, logger="tansuan.gateways.hj212"):
            asyncio.run(scenario())
        with store.read() as connection:
            q = schema.quarantine
            rows = connection.execute(
                select(q.c.point_key, q.c.value, q.c.reason, q.c.detail, q.c.ts_us)
            ).all()
            current = connection.execute(
                select(schema.reading_staging.c.value).union_all(select(schema.reading.c.value))
            ).all()
            report = site_quality(connection, "plant")
    finally:
        store.close()
    ten_local = dt.datetime(2024, 1, 1, 2, tzinfo=dt.UTC)  # 10:00 Shanghai, the hour's start
    assert [(r.point_key, r.value, r.reason, r.ts_us) for r in rows] == [
        ("s0.co2", 77.5, "interval_mismatch", int(ten_local.timestamp()) * 1_000_000)
    ]
    assert "CN=2061" in rows[0].detail and "interval_s 60" in rows[0].detail
    assert sorted(v for (v,) in current) == [80.5]  # only the minute upload is a reading
    assert COUNTERS.get("tansuan_hj212_quarantined_total", reason="interval_mismatch") == (
        before + 1
    )
    assert COUNTERS.get("tansuan_hj212_ignored_total", reason="coarser_interval") == ignored + 1
    metrics = COUNTERS.render()
    assert 'tansuan_hj212_quarantined_total{reason="interval_mismatch"}' in metrics
    assert any("CN=2061" in r.getMessage() and "s0.co2" in r.getMessage() for r in caplog.records)
    assert [(r["reason"], r["rows"]) for r in report["rejected_24h"]] == [("interval_mismatch", 1)]
    assert "CN=2061" in report["rejected_24h"][0]["last_detail"]
