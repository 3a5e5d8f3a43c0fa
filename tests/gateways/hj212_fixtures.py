"""Shared pieces of the HJ 212 tests: a site model, a real SQLite sink, a running server."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from tansuan.errors import StoreError
from tansuan.gateways.hj212.mapping import Directory
from tansuan.gateways.hj212.server import Hj212Server, Limits
from tansuan.ingest.reading import Reading
from tansuan.site.model import SiteModel

PW = "123456"


def mn(i: int) -> str:
    """MN of logger ``i``: 14 characters, like the real devices' short MNs."""
    return f"8888888{i:07d}"


def site_model(
    n_loggers: int = 2,
    *,
    timezone: str = "Asia/Shanghai",
    co2_range: tuple[float, float] | None = None,
) -> SiteModel:
    """One site with ``n_loggers`` stacks; each logger feeds five points.

    Per stack i: ``s{i}.co2`` a05001 minute Avg (interval 60 s, field not given),
    ``s{i}.flow`` a00000 minute Avg (explicit), ``s{i}.temp`` a01012 real-time Rtd
    (interval 30 s), ``s{i}.o2.h`` a19001 hourly Avg (interval 3600 s),
    ``s{i}.flow.h`` a00000 hourly Cou (interval 3600 s). ``co2_range`` is the
    ``valid_range`` of ``s{i}.co2``.
    """
    connections: list[dict[str, Any]] = []
    devices: list[dict[str, Any]] = []
    for i in range(n_loggers):
        conn = f"logger-{i}"
        connections.append({"id": conn, "protocol": "hj212", "mn": mn(i), "password": PW})

        def address(code: str, field: str | None = None, conn: str = conn) -> dict[str, Any]:
            hj212 = {"connection": conn, "code": code}
            if field:
                hj212["field"] = field
            return {"hj212": hj212}

        devices.append(
            {
                "id": f"stack-{i}",
                "class": "stack",
                "points": [
                    {
                        "id": f"s{i}.co2",
                        "quantity": "concentration",
                        "unit": "mg/m3",
                        "protocol": address("a05001"),
                        **({"valid_range": list(co2_range)} if co2_range else {}),
                    },
                    {
                        "id": f"s{i}.flow",
                        "quantity": "flow",
                        "unit": "m3/s",
                        "protocol": address("a00000", "Avg"),
                    },
                    {
                        "id": f"s{i}.temp",
                        "quantity": "temperature",
                        "unit": "degC",
                        "interval_s": 30,
                        "protocol": address("a01012", "Rtd"),
                    },
                    {
                        "id": f"s{i}.o2.h",
                        "quantity": "concentration",
                        "unit": "percent",
                        "interval_s": 3600,
                        "protocol": address("a19001"),
                    },
                    {
                        "id": f"s{i}.flow.h",
                        "quantity": "volume",
                        "unit": "m3",
                        "kind": "total",
                        "interval_s": 3600,
                        "protocol": address("a00000", "Cou"),
                    },
                ],
            }
        )
    return SiteModel.model_validate(
        {
            "organisation": {
                "id": "org",
                "companies": [
                    {
                        "id": "co",
                        "sites": [
                            {
                                "id": "plant",
                                "timezone": timezone,
                                "connections": connections,
                                "areas": [{"id": "stacks", "devices": devices}],
                            }
                        ],
                    }
                ],
            }
        }
    )


class SqliteSink:
    """A real, durable sink: one SQLite table, committed before returning."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS readings (site TEXT, point TEXT, ts TEXT, value REAL,"
            " quality TEXT, PRIMARY KEY (site, point, ts)) WITHOUT ROWID"
        )
        self._lock = threading.Lock()
        self.calls = 0

    def __call__(self, readings: Sequence[Reading]) -> None:
        rows = [
            (r.site, r.point, r.ts.isoformat(), r.value, r.quality)
            for r in readings
            if r.refused is None  # a refused value is never a reading (Reading.refused)
        ]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR IGNORE INTO readings VALUES (?, ?, ?, ?, ?)", rows)
            self._db.execute("COMMIT")
            self.calls += 1

    def rows(self) -> list[tuple[str, str, str, float, str]]:
        """Everything committed, read through a separate connection."""
        with contextlib.closing(sqlite3.connect(self.path)) as db:
            return db.execute(
                "SELECT site, point, ts, value, quality FROM readings ORDER BY point, ts"
            ).fetchall()

    def close(self) -> None:
        self._db.close()


class FailingSink:
    """A sink whose store is down (fault injection: the only way to make commit fail)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, readings: Sequence[Reading]) -> None:
        self.calls += 1
        raise StoreError("database is unavailable")


@contextlib.asynccontextmanager
async def running(
    model: SiteModel,
    sink: Any,
    limits: Limits | None = None,
    *,
    now: Callable[[], dt.datetime] | None = None,
) -> AsyncIterator[Hj212Server]:
    """A started server; ``now`` (the host's clock) is injected when given."""
    directory = Directory.from_site_model(model)
    if now is None:
        server = Hj212Server(directory, sink, limits)
    else:
        server = Hj212Server(directory, sink, limits, now=now)
    await server.start("127.0.0.1", 0)
    try:
        yield server
    finally:
        await server.close()


async def read_answer(reader: asyncio.StreamReader, timeout: float = 5.0) -> bytes:
    """One answer line from the server."""
    return await asyncio.wait_for(reader.readuntil(b"\r\n"), timeout)
