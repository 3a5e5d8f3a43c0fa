"""`tansuan gateway hj212` end to end: a logger's upload → the store → the ledger → verify.

The gateway runs as its own process, as in production; the upload is answered only after
the batch is committed, and the committed reading is covered by a ledger leaf that
`tansuan verify` checks — and that names the reading once it is changed behind its back.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from tansuan.cli import app
from tansuan.gateways.hj212.client import Hj212Client
from tansuan.settings import get_settings
from tansuan.site.validate import load
from tansuan.store import Store, queries


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def gateway(
    db_url: str, tmp_path: Path, examples: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[int]:
    port = _free_port()
    env = {
        "TANSUAN_DATA_DIR": str(tmp_path / "var"),
        "TANSUAN_DATABASE_URL": db_url,
        "TANSUAN_HJ212_PORT": str(port),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    store = Store(db_url)
    store.load_model(load(examples / "site.yaml"))
    store.close()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tansuan.cli",
            "gateway",
            "hj212",
            "--site-model",
            str(examples / "site.yaml"),
        ],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"gateway did not start: {process.stderr.read()!r}")
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()
        get_settings.cache_clear()


def test_upload_is_stored_logged_and_verified(gateway: int, db_url: str) -> None:
    async def upload() -> str:
        client = Hj212Client(
            "127.0.0.1", gateway, mn="88888880000001", pw="123456", timeout_s=10, retries=0
        )
        async with client:
            answer = await client.upload(
                "2051",
                "20240301100000",
                {"a05001": {"Avg": 180000.5, "Flag": "N"}, "a00000": {"Avg": 55.2, "Flag": "N"}},
            )
        assert answer is not None
        return answer.cn

    assert asyncio.run(upload()) == "9014"
    store = Store(db_url)
    try:
        with store.read() as conn:
            start = dt.datetime(2024, 3, 1, 2, tzinfo=dt.UTC)  # 10:00 Shanghai
            raw = queries.series(
                conn, "demo-site", "stack-1.co2", start, start + dt.timedelta(minutes=1), "raw"
            )
        assert [(r["period"], r["value"]) for r in raw] == [(start, 180000.5)]
    finally:
        store.close()

    runner = CliRunner()
    ok = runner.invoke(app, ["verify"])
    assert ok.exit_code == 0, ok.output

    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        for table in ("reading", "reading_staging"):
            conn.execute(sa.text(f"UPDATE {table} SET value = 170000.0 WHERE value = 180000.5"))
    engine.dispose()
    tampered = runner.invoke(app, ["verify"])
    assert tampered.exit_code == 1, tampered.output
    assert "stack-1.co2" in tampered.output and "180000.5" in tampered.output
