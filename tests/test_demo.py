"""`make demo` end to end: the demo starts headless, live data arrive through every
protocol, and the dashboard and the annual report show the plant's numbers.

Runs `tansuan demo` as a real process (the same command `make demo` runs) on a short
history, on its own ports and data folder.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tansuan.cli import app
from tansuan.settings import get_settings
from tests.conftest import FROZEN_NOW
from tests.web.browser import free_port


def _counter(text: str, name: str) -> float:
    return sum(float(v) for v in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M))


def _http_batches(env: dict[str, str]) -> int:
    """Ingest batches that arrived over HTTP (the readings route) since the demo started."""
    import sqlite3

    path = env["TANSUAN_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        row = db.execute(
            "SELECT count(*) FROM ingest_batch WHERE source NOT IN "
            "('twin', 'hj212', 'modbus', 'opcua', 'mqtt') AND source NOT LIKE 'manual:%'"
        ).fetchone()
    return int(row[0])


@pytest.mark.timeout(900)
def test_demo_runs_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    http_port = free_port()
    env = {
        "TANSUAN_DATA_DIR": str(tmp_path / "var"),
        "TANSUAN_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'tansuan.db'}",
        "TANSUAN_DEMO": "true",
        "TANSUAN_HJ212_PORT": str(free_port()),
    }
    mqtt = os.environ.get("TANSUAN_TEST_MQTT_URL")
    if mqtt:  # CI has a broker: meters then go over MQTT instead of HTTP
        env["TANSUAN_MQTT_URL"] = mqtt
        env["TANSUAN_MQTT_CLIENT_ID"] = f"tansuan-demo-test-{os.getpid()}"
    process = subprocess.Popen(
        [sys.executable, "-m", "tansuan.cli", "demo", "--days", "3", "--port", str(http_port)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{http_port}"
    try:
        banner = ""
        deadline = time.monotonic() + 240
        while "Ctrl-C" not in banner:
            line = process.stdout.readline() if process.stdout else ""
            assert line or process.poll() is None, banner
            banner += line
            assert time.monotonic() < deadline, banner
        assert "admin / tansuan-demo" in banner and base in banner

        for key, value in env.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        made = CliRunner().invoke(app, ["token", "create", "admin", "--scope", "admin",
                                        "--scope", "read"])  # fmt: skip
        get_settings.cache_clear()
        token = next(line for line in made.output.splitlines() if line.startswith("tsn_"))
        auth = {"Authorization": f"Bearer {token}"}

        wanted = ["tansuan_hj212_readings_total", "tansuan_modbus_readings_total",
                  "tansuan_opcua_readings_total"]  # fmt: skip
        if mqtt:
            wanted.append("tansuan_mqtt_readings_total")
        else:  # meters over HTTP: batches labelled by the readings route
            wanted.append("http")
        # The shipyard's CEMS sends 5-minute data (HJ 212 2051) and its meters report every
        # few minutes, so the first live upload of each can take up to 5 minutes.
        deadline = time.monotonic() + 420
        while True:
            metrics = httpx.get(f"{base}/metrics", headers=auth, timeout=5).text
            missing = [
                name for name in wanted
                if (_http_batches(env) if name == "http" else _counter(metrics, name)) <= 0
            ]  # fmt: skip
            if not missing:
                break
            assert time.monotonic() < deadline, f"no live data through {missing}"
            time.sleep(2)

        year = FROZEN_NOW.year  # the demo backfills up to the frozen TANSUAN_NOW
        emissions = httpx.get(f"{base}/api/v1/emissions", headers=auth, timeout=30,
                              params={"node": "shipyard", "period": str(year)}).json()  # fmt: skip
        total = emissions["total_co2e_t"]
        assert total > 0

        with httpx.Client(base_url=base, timeout=30) as browser:
            login = browser.get("/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', login.text)
            assert csrf is not None
            browser.post("/login", data={"username": "admin", "password": "tansuan-demo",
                                         "csrf": csrf.group(1)})  # fmt: skip
            page = browser.get("/emissions", params={"node": "shipyard", "period": str(year)})
            assert page.status_code == 200 and f"{total:.3f}" in page.text

        report = httpx.post(f"{base}/api/v1/reports/annual", headers=auth, timeout=120,
                            params={"site": "shipyard", "year": year, "format": "html",
                                    "layout": "generic"})  # fmt: skip
        assert report.status_code == 200, report.text[:500]
        assert "tansuan-receipt-v1" in report.text
        assert f"{total:,.3f}" in report.text  # the report's total is the accounted total
    finally:
        process.send_signal(signal.SIGINT)
        try:
            out, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            out, _ = process.communicate()
    assert "已停止 / stopped" in out
