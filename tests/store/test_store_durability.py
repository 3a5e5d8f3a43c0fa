"""Durability: kill -9 of a real ingesting process.

* after an acknowledged batch: nothing acknowledged is lost;
* before the acknowledgement (inside the transaction): no partial rows, rollups,
  quarantine entries or batch record remain.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tansuan.store import Store

CHILD = Path(__file__).with_name("durability_child.py")
ROWS = 500


def run_child(url: str, mode: str, until: str, count: int) -> tuple[list[str], int]:
    """Start the child, read its lines until ``count`` lines start with ``until``,
    then SIGKILL it at once. Returns the lines read and the exit status."""
    process = subprocess.Popen(
        [sys.executable, str(CHILD), url, mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: list[str] = []
    deadline = time.monotonic() + 120
    assert process.stdout is not None
    try:
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                raise AssertionError(f"child ended early: {process.stderr.read()}")  # type: ignore[union-attr]
            lines.append(line.strip())
            if sum(x.startswith(until) for x in lines) >= count:
                os.kill(process.pid, signal.SIGKILL)
                break
        else:
            raise AssertionError("child too slow")
    finally:
        if process.poll() is None:
            process.kill()
        status = process.wait()
        process.stdout.close()
        process.stderr.close()  # type: ignore[union-attr]
    return lines, status


def totals(store: Store) -> dict[str, int]:
    with store.read() as connection:

        def one(sql: str) -> int:
            return int(connection.exec_driver_sql(sql).scalar() or 0)

        return {
            "readings": one("SELECT count(*) FROM reading")
            + one("SELECT count(*) FROM reading_staging"),
            "hour_n": one("SELECT sum(n) FROM rollup_hour"),
            "day_n": one("SELECT sum(n) FROM rollup_day"),
            "batches": one("SELECT count(*) FROM ingest_batch"),
            "quarantine": one("SELECT count(*) FROM quarantine"),
        }


def batch_count(store: Store, batch_id: int) -> int:
    with store.read() as connection:
        return sum(
            int(
                connection.exec_driver_sql(
                    f"SELECT count(*) FROM {table} WHERE batch_id = {int(batch_id)}"
                ).scalar_one()
            )
            for table in ("reading", "reading_staging", "quarantine")
        )


def test_kill_after_ack_loses_nothing(store: Store) -> None:
    url = str(store.url)
    lines, status = run_child(url, "ack", "ACK", 6)
    assert status == -signal.SIGKILL
    acked = [int(x.split()[2]) for x in lines if x.startswith("ACK")]
    reopened = Store(url)
    try:
        for batch_id in acked:
            assert batch_count(reopened, batch_id) == ROWS + 1  # 500 rows + 1 quarantined
        t = totals(reopened)
        # Batches committed after the last ACK we read may exist; all are whole.
        assert t["readings"] == ROWS * t["batches"] >= ROWS * len(acked)
        assert t["hour_n"] == t["day_n"] == t["readings"]
        assert t["quarantine"] == t["batches"]
    finally:
        reopened.close()


def test_kill_before_ack_leaves_no_partial_batch(store: Store) -> None:
    url = str(store.url)
    lines, status = run_child(url, "hang", "IN_TXN", 1)
    assert status == -signal.SIGKILL
    doomed = int(next(x for x in lines if x.startswith("IN_TXN")).split()[1])
    acked = [int(x.split()[2]) for x in lines if x.startswith("ACK")]
    assert len(acked) == 2
    reopened = Store(url)
    try:
        assert batch_count(reopened, doomed) == 0
        t = totals(reopened)
        assert t == {
            "readings": 2 * ROWS,
            "hour_n": 2 * ROWS,
            "day_n": 2 * ROWS,
            "batches": 2,
            "quarantine": 2,
        }
        # The store still takes the next batch after the crash.
        from tansuan.ingest.ingestor import Ingestor

        result = Ingestor(reopened).ingest_columns(
            "site", ["power"], [1_793_491_140_000_000], [1.0]
        )
        assert result.new == 1
    finally:
        reopened.close()
