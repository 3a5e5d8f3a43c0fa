"""The server's alerts job, on SQLite and PostgreSQL: alert events in the store, and a real
``tansuan serve`` evaluating, delivering to a local webhook server, retrying a failed
webhook at the next round, never resending, clearing — shown on the dashboard."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from tansuan.analytics.alerts import Alert
from tansuan.cli import app
from tansuan.settings import get_settings
from tansuan.store import Store, alert_events
from tests.analytics.receiver import Receiver, receiver_fixture  # noqa: F401
from tests.conftest import FROZEN_NOW
from tests.web.browser import free_port
from tests.web.conftest import login
from tests.web.demo import build


def _alert(severity: str = "warning", value: float = 1.0) -> Alert:
    return Alert("site", "allowance", severity, "shortfall_t", value, 0.0, "t", "缺", "short")  # type: ignore[arg-type]


def test_alert_events_open_clear_and_delivery(store: Store) -> None:
    with store.write() as conn:
        alert_events.record(conn, "org", "site", 2026, [_alert()], 1)
        alert_events.record(conn, "org", "site", 2026, [_alert(value=2.0)], 2)  # still raised
    with store.read() as conn:
        [row] = alert_events.open_events(conn, "org", "site")
        assert (row["value"], row["raised_at_us"], row["seen_at_us"]) == (2.0, 1, 2)
        assert alert_events.open_events(conn, "other-org") == []  # another organisation's
        assert [r["id"] for r in alert_events.pending(conn, "http://a")] == [row["id"]]
    urls = ["http://a", "http://b"]
    with store.write() as conn:
        alert_events.failed(conn, [row["id"]], "http://b", "HTTP 500")
        alert_events.delivered(conn, [row["id"]], "http://a", urls, 3)
    with store.read() as conn:
        [row] = alert_events.open_events(conn, "org")
        assert row["sent_at_us"] is None and row["sent_to"] == ["http://a"]
        assert row["last_error"] == "http://b: HTTP 500" and row["attempts"] == 2
        assert alert_events.pending(conn, "http://a") == []
        assert len(alert_events.pending(conn, "http://b")) == 1
    with store.write() as conn:
        alert_events.delivered(conn, [row["id"]], "http://b", urls, 4)
        # a raised severity is a new alert; the warning clears
        alert_events.record(conn, "org", "site", 2026, [_alert("critical")], 5)
    with store.read() as conn:
        [row] = alert_events.open_events(conn, "org")
        assert row["severity"] == "critical" and row["sent_to"] == []
        assert len(alert_events.pending(conn, "http://b")) == 1
    with store.write() as conn:  # New Year: last year's open alerts are cleared
        alert_events.record(conn, "org", "site", 2027, [], 6)
    with store.read() as conn:
        assert alert_events.open_events(conn, "org") == []


def _wait(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_serve_runs_the_alerts_job(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    """The demo site's account for this year: allocation 1 000 t, verified 2 000 t, CCER cap
    5 % and no shortfall cap → obligation 2 000 t, shortfall 1 000 t, certain (P = 1):
    one critical allowance alert. The JSON webhook answers 500 once: retried at the next
    round (1 s later), then neither webhook gets it again. Verified 900 t clears it."""
    year = FROZEN_NOW.year  # the job's year (the frozen clock, in the site's zone)
    http_port = free_port()
    env = {
        "TANSUAN_DATA_DIR": str(tmp_path / "data"),
        "TANSUAN_DATABASE_URL": db_url,
        "TANSUAN_DEMO": "true",
        "TANSUAN_SERVE_SERVICES": "alerts",
        "TANSUAN_ALERT_INTERVAL_S": "1",
        "TANSUAN_ALERT_RETRIES": "0",
        "TANSUAN_ALERT_WEBHOOKS": json.dumps(
            [f"json={receiver.url}/json", f"wecom={receiver.url}/wecom"]
        ),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    store = Store(env["TANSUAN_DATABASE_URL"], settings=get_settings())
    try:
        build(store, FROZEN_NOW.astimezone(dt.UTC))
    finally:
        store.close()
    account = {"entity": "demo-site", "year": year, "price": 80, "allocation": 1000,
               "verified": 2000, "rules": {"ccer_cap": 0.05}}  # fmt: skip
    path = tmp_path / "account.yaml"
    path.write_text(yaml.safe_dump(account), encoding="utf-8")
    runner = CliRunner()
    made = runner.invoke(app, ["position", "import", str(path), "--site", "demo-site"])
    assert made.exit_code == 0, made.output
    receiver.script = [(500, {}), (200, {"errcode": 0, "errmsg": "ok"})]
    process = subprocess.Popen(
        [sys.executable, "-m", "tansuan.cli", "serve", "--port", str(http_port)],
        env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{http_port}"
    try:
        _wait(lambda: len(receiver.bodies) >= 3, "the alert, its failure and its retry")
        assert sorted(receiver.paths[:2]) == ["/json", "/wecom"] and receiver.paths[2] == "/json"
        retried = receiver.bodies[2]["alerts"]
        assert [(a["kind"], a["severity"], a["value"]) for a in retried] == [
            ("allowance", "critical", 1000.0)
        ]
        wecom = receiver.bodies[receiver.paths.index("/wecom")]
        assert "1,000 t" in wecom["markdown"]["content"]
        time.sleep(3.5)  # three more rounds: nothing is sent again
        assert len(receiver.bodies) == 3
        with httpx.Client(base_url=base, timeout=10) as client:
            assert login(client, "alice").status_code in (302, 303)
            banner = client.get("/ui/alerts", params={"site": "demo-site"}).text
        assert "alerts-round" in banner and 'class="sent"' in banner and "1,000" in banner
        # verified emissions below the allocation: the next round clears the alert
        cleared = runner.invoke(app, ["position", "set", "--site", "demo-site", "--year",
                                      str(year), "--verified", "900"])  # fmt: skip
        assert cleared.exit_code == 0, cleared.output

        def banner_clear() -> bool:
            with httpx.Client(base_url=base, timeout=10) as client:
                login(client, "alice")
                return "alerts-none" in client.get("/ui/alerts", params={"site": "demo-site"}).text

        _wait(banner_clear, "the alert to clear")
        assert process.poll() is None  # the failed webhook did not stop the server
    finally:
        process.terminate()
        output = process.communicate(timeout=15)[0].decode(errors="replace")
        get_settings.cache_clear()
    assert "alert webhook" in output and "failed" in output  # the failure was logged
