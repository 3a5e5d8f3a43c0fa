"""`tansuan gateway modbus` as a real process polling the simulated meter, then SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import yaml

from tansuan.site.model import dump

from .conftest import free_port
from .sqlite_sink import SqliteSink
from .test_modbus_meter import EXPECTED, Meter, site_model

HERE = Path(__file__).resolve().parent


def test_the_runner_polls_until_sigterm_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    site = tmp_path / "site.yaml"
    site.write_text(yaml.safe_dump(dump(site_model(port)), allow_unicode=True))
    env = dict(os.environ)
    env.update(
        TANSUAN_GATEWAY_SINK="sqlite_sink:make_sink",
        TANSUAN_TEST_SINK_DB=str(tmp_path / "sink.db"),
        PYTHONPATH=os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")]),
    )
    env.pop("TANSUAN_TEST_SINK_FAULT", None)
    db = SqliteSink(tmp_path / "sink.db")

    async def main() -> int:
        meter = Meter(port)
        await meter.start()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tansuan.cli", "gateway", "modbus", "--site-model", str(site),
            cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:

            async def stored() -> None:
                while db.count() < 2 * len(EXPECTED):  # at least two polls
                    await asyncio.sleep(0.05)

            await asyncio.wait_for(stored(), 30)
        finally:
            proc.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(proc.communicate(), 15)
            await meter.stop()
        assert b"connected to 127.0.0.1" in stderr
        return proc.returncode or 0

    assert asyncio.run(main()) == 0
    latest = dict(db.rows("SELECT point, value FROM readings GROUP BY point HAVING max(ts)"))
    assert latest.keys() == EXPECTED.keys()
    for point, value in EXPECTED.items():
        assert abs(latest[point] - value) < 1e-6 * max(1.0, abs(value)), point
    db.close()
