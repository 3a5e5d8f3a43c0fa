"""A real, simple sink for gateway tests: readings committed into an SQLite table.

``readings`` is keyed (site, point, ts) and written with INSERT OR IGNORE, so a
re-delivered reading is stored once (as ingest's dedupe will do); ``deliveries`` logs
every reading the sink was handed, so a test can see re-deliveries.

Also importable by a gateway subprocess through ``TANSUAN_GATEWAY_SINK=
sqlite_sink:make_sink`` (with this folder on PYTHONPATH); it reads
``TANSUAN_TEST_SINK_DB`` and ``TANSUAN_TEST_SINK_FAULT``:

* ``exit-before-commit`` — the process dies (``os._exit``) when handed readings,
  before anything is committed;
* ``exit-after-commit`` — it commits, then dies before returning (so before the ack).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tansuan.errors import InputError, StoreError
from tansuan.ingest.reading import Reading


class SqliteSink:
    def __init__(self, path: Path, fault: str | None = None) -> None:
        self.path = path
        self.fault = fault
        self.calls = 0
        self.fail_next = 0  # raise StoreError on the next N calls (a database outage)
        self.refuse_point: str | None = None  # raise InputError for batches with this point
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS readings (site TEXT, point TEXT, ts TEXT, value REAL, "
            "unit TEXT, quality TEXT, PRIMARY KEY (site, point, ts))"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS deliveries (seq INTEGER PRIMARY KEY, site TEXT, "
            "point TEXT, ts TEXT, value REAL)"
        )

    def __call__(self, readings: Sequence[Reading]) -> None:
        with self._lock:
            self.calls += 1
            if self.fault == "exit-before-commit":
                os._exit(17)
            if self.fail_next > 0:
                self.fail_next -= 1
                raise StoreError("database unavailable (test fault)")
            if self.refuse_point and any(r.point == self.refuse_point for r in readings):
                raise InputError(f"unknown point {self.refuse_point!r}")
            rows = [
                (r.site, r.point, r.ts.isoformat(), r.value, r.unit, r.quality) for r in readings
            ]
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO deliveries (site, point, ts, value) VALUES (?, ?, ?, ?)",
                [row[:4] for row in rows],
            )
            self._db.executemany("INSERT OR IGNORE INTO readings VALUES (?, ?, ?, ?, ?, ?)", rows)
            self._db.execute("COMMIT")
            if self.fault == "exit-after-commit":
                os._exit(18)

    def rows(
        self,
        sql: str = "SELECT site, point, ts, value, unit, quality FROM readings ORDER BY 1, 2, 3",
    ) -> Any:
        with self._lock:
            return self._db.execute(sql).fetchall()

    def count(self, table: str = "readings") -> int:
        with self._lock:
            return int(self._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    def close(self) -> None:
        self._db.close()


def make_sink(settings: object) -> SqliteSink:
    """Sink factory for ``TANSUAN_GATEWAY_SINK`` in a gateway subprocess."""
    return SqliteSink(
        Path(os.environ["TANSUAN_TEST_SINK_DB"]), os.environ.get("TANSUAN_TEST_SINK_FAULT")
    )
