"""`tansuan serve` runs the web app, the gateways and the signed-tree-head schedule together.

A real server process: an HJ 212 logger's upload is answered after commit, the gateway's
counters appear on /metrics (for an admin token only), and a signed tree head covering
the upload's ledger leaf is served by the API.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tansuan.cli import app
from tansuan.gateways.hj212.client import Hj212Client
from tansuan.settings import get_settings
from tests.web.browser import free_port


def _wait_http(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 40
    while True:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "tansuan serve did not answer in 40 s"
            time.sleep(0.2)


def test_serve_runs_gateways_metrics_and_sth(
    tmp_path: Path, examples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    http_port, hj212_port = free_port(), free_port()
    env = {
        "TANSUAN_DATA_DIR": str(tmp_path / "data"),
        "TANSUAN_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "TANSUAN_DEMO": "true",
        "TANSUAN_HJ212_PORT": str(hj212_port),
        "TANSUAN_SERVE_SERVICES": "hj212",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        for args in (
            ["site", "load", str(examples / "site.yaml")],
            [
                "user",
                "add",
                "ops",
                "--org",
                "demo-group",
                "--role",
                "admin",
                "--password",
                "long enough pw",
            ],
        ):
            result = runner.invoke(app, args)
            assert result.exit_code == 0, result.output
        made = runner.invoke(app, ["token", "create", "ops", "--scope", "admin", "--scope", "read"])
        token = next(line for line in made.output.splitlines() if line.startswith("tsn_"))
    finally:
        get_settings.cache_clear()

    process = subprocess.Popen(
        [sys.executable, "-m", "tansuan.cli", "serve", "--port", str(http_port)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{http_port}"
    try:
        _wait_http(f"{base}/login", process)

        async def upload() -> str:
            for _ in range(100):  # the gateway starts beside the web app
                try:
                    client = Hj212Client(
                        "127.0.0.1",
                        hj212_port,
                        mn="88888880000001",
                        pw="123456",
                        timeout_s=10,
                        retries=0,
                    )
                    async with client:
                        answer = await client.upload(
                            "2051", "20240301100000", {"a05001": {"Avg": 180000.5, "Flag": "N"}}
                        )
                    assert answer is not None
                    return answer.cn
                except ConnectionError:
                    await asyncio.sleep(0.2)
            raise AssertionError("the HJ 212 gateway did not start")

        assert asyncio.run(upload()) == "9014"
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{base}/metrics", timeout=5).status_code in (401, 403)
        metrics = httpx.get(f"{base}/metrics", headers=auth, timeout=5)
        assert metrics.status_code == 200, metrics.text
        assert 'tansuan_hj212_packets_total{cn="2051"} 1' in metrics.text
        # The schedule signed a head at start; sign one now that covers the upload.
        sth = httpx.get(f"{base}/api/v1/ledger/sth", headers=auth, timeout=5)
        assert sth.status_code == 200, sth.text
        size = httpx.get(f"{base}/api/v1/ledger/size", headers=auth, timeout=5).json()
        assert size["tree_size"] == 2  # the site model loaded (site_model leaf), the upload's batch
    finally:
        process.terminate()
        process.wait(15)
        if process.stdout:
            process.stdout.close()
