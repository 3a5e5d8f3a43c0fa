"""A small, real readings table for ledger tests (independent of the store's own).

``batch_rows`` honours the store's contract: the stored rows of a batch as
``(site_id, point_id, ts (aware UTC), value, quality, version)``, sorted (point, ts, version).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    insert,
    select,
)

from tansuan.ledger.canonical import Row
from tansuan.ledger.log import Ledger

metadata = MetaData()
readings = Table(
    "test_readings",
    metadata,
    Column("point_id", String(100), primary_key=True),
    Column("ts_us", BigInteger, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("site_id", String(100), nullable=False),
    Column("value", Float, nullable=False),
    Column("quality", String(1), nullable=False),
    Column("batch_id", Integer, nullable=False, index=True),
)

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def us(ts: dt.datetime) -> int:
    return (ts - EPOCH) // dt.timedelta(microseconds=1)


def make_rows(batch: int, n_points: int = 3, n_steps: int = 4) -> list[Row]:
    """A batch of readings: ``n_points`` points × ``n_steps`` minutes, distinct values."""
    return [
        (
            "s1",
            f"p{p}",
            T0 + dt.timedelta(minutes=batch * n_steps + step),
            round(10.0 + batch + p / 10 + step / 100, 3),
            "N",
            1,
        )
        for step in range(n_steps)
        for p in range(n_points)
    ]


def ingest(engine: Engine, ledger: Ledger, batch_id: int, rows: Sequence[Row]) -> int:
    """Store a batch and log it in the same transaction, as the real ingest does."""
    with engine.begin() as connection:
        connection.execute(
            insert(readings),
            [
                {
                    "site_id": site,
                    "point_id": point,
                    "ts_us": us(ts),
                    "version": version,
                    "value": value,
                    "quality": quality,
                    "batch_id": batch_id,
                }
                for site, point, ts, value, quality, version in rows
            ],
        )
        return ledger.ingest_hook(connection, batch_id, rows)


def batch_rows(connection: Connection, batch_id: int) -> list[Row]:
    result = connection.execute(
        select(
            readings.c.site_id,
            readings.c.point_id,
            readings.c.ts_us,
            readings.c.value,
            readings.c.quality,
            readings.c.version,
        )
        .where(readings.c.batch_id == batch_id)
        .order_by(readings.c.point_id, readings.c.ts_us, readings.c.version)
    )
    return [
        (site, point, EPOCH + dt.timedelta(microseconds=ts), value, quality, version)
        for site, point, ts, value, quality, version in result
    ]


def batch_ids(connection: Connection) -> list[int]:
    return list(connection.execute(select(readings.c.batch_id).distinct()).scalars())
