"""Alert rules (hand-computed limits) and webhook delivery against a real local HTTP
server (http.server on a free localhost port): the four payload formats, retries on a
5xx, no retry on a robot's refusal, and no crash when nothing listens."""

from __future__ import annotations

import socket
import time

import pytest

from tansuan.analytics import alerts
from tansuan.analytics.alerts import Alert, Threshold, Webhook
from tansuan.errors import InputError
from tests.analytics.receiver import Receiver, receiver_fixture  # noqa: F401

ALERT = Alert("plant-1", "energy_budget", "critical", "year_tce", 1200.0, 1000.0, "tce",
              "plant-1 预计全年能耗超出预算",
              "plant-1 is projected over its energy budget")  # fmt: skip


def test_budget_alert_limits() -> None:
    """Budget 1000 tce, margin 5 %: 1050 is not over the margin, 1051 is; with sd 20 the
    90 % lower end of 1051 is 1051 − 1.645·20 = 1018.1 > 1000 → critical; with sd 40 it is
    985.2 → warning."""
    assert alerts.budget_alert("s", 1050.0, 20.0, 1000.0, 5.0) is None
    critical = alerts.budget_alert("s", 1051.0, 20.0, 1000.0, 5.0)
    assert critical is not None and critical.severity == "critical"
    warning = alerts.budget_alert("s", 1051.0, 40.0, 1000.0, 5.0)
    assert warning is not None and warning.severity == "warning"
    assert "5.1%" in warning.en and "超出" in warning.zh


def test_allowance_alert_limits() -> None:
    """Obligation 10 000 t, margin 10 %: a 900 t shortfall is within, 1 100 t is not."""
    base = {"obligation": 10_000.0, "shortfall_value": 0.0, "shortfall_probability": 0.4}
    assert alerts.allowance_alert("s", base | {"shortfall": 900.0}, 10.0) is None
    found = alerts.allowance_alert("s", base | {"shortfall": 1_100.0}, 10.0)
    assert found is not None and found.severity == "warning" and found.value == 1_100.0


def test_thresholds_parse_and_apply() -> None:
    rules = [Threshold.parse("*:month_tco2e>500"), Threshold.parse("b:year_tce > 10")]
    facts = {"month_tco2e": 600.0, "year_tce": 50.0}
    assert [a.metric for a in alerts.threshold_alerts("a", facts, rules)] == ["month_tco2e"]
    assert len(alerts.threshold_alerts("b", facts, rules)) == 2
    assert alerts.threshold_alerts("a", {"month_tco2e": None}, rules) == []
    with pytest.raises(InputError, match="SITE:METRIC>LIMIT"):
        Threshold.parse("month_tco2e 500")
    with pytest.raises(InputError, match="metric must be one of"):
        Threshold.parse("*:kwh>5")
    with pytest.raises(InputError, match="FORMAT="):
        Webhook.parse("slack=https://example.invalid/x")


def test_every_format_is_delivered(receiver: Receiver) -> None:
    hooks = [Webhook.parse(f"{fmt}={receiver.url}/{fmt}") for fmt in alerts.FORMATS]
    done = alerts.deliver([ALERT], hooks, timeout_s=2, retries=0)
    assert [d.ok for d in done] == [True] * 4
    bodies = dict(zip(receiver.paths, receiver.bodies, strict=True))
    assert bodies["/json"]["alerts"][0]["site"] == "plant-1"
    assert bodies["/json"]["alerts"][0]["value"] == 1200.0
    wecom = bodies["/wecom"]
    assert wecom["msgtype"] == "markdown" and "plant-1" in wecom["markdown"]["content"]
    ding = bodies["/dingtalk"]
    assert ding["msgtype"] == "markdown" and set(ding["markdown"]) == {"title", "text"}
    assert "预计全年能耗超出预算" in ding["markdown"]["text"]
    feishu = bodies["/feishu"]
    assert feishu["msg_type"] == "text" and "[critical]" in feishu["content"]["text"]


def test_a_5xx_is_retried_then_succeeds(receiver: Receiver) -> None:
    receiver.script = [(503, {}), (500, {}), (200, {"errcode": 0, "errmsg": "ok"})]
    done = alerts.send(Webhook("wecom", receiver.url), [ALERT], timeout_s=2, retries=2,
                       backoff_s=0.01)  # fmt: skip
    assert done.ok and done.attempts == 3 and done.status == 200
    assert len(receiver.bodies) == 3


def test_a_robot_refusal_is_reported_not_retried(receiver: Receiver) -> None:
    receiver.script = [(200, {"errcode": 93000, "errmsg": "invalid webhook url"})]
    done = alerts.send(Webhook("wecom", receiver.url), [ALERT], retries=3, backoff_s=0.01)
    assert not done.ok and done.attempts == 1 and "93000" in (done.error or "")
    assert len(receiver.bodies) == 1


def test_a_dead_endpoint_fails_without_crashing() -> None:
    with socket.socket() as s:  # a port nobody listens on (bound, then closed)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    done = alerts.deliver([ALERT], [Webhook("json", f"http://127.0.0.1:{port}/x")],
                          timeout_s=1, retries=2, backoff_s=0.01)  # fmt: skip
    assert len(done) == 1 and not done[0].ok and done[0].attempts == 3
    assert done[0].status is None and done[0].error
    assert time.monotonic() - started < 5


def test_a_silent_endpoint_times_out() -> None:
    """A server that accepts but never answers: each attempt ends at the timeout."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        port = listener.getsockname()[1]
        started = time.monotonic()
        done = alerts.send(Webhook("json", f"http://127.0.0.1:{port}/"), [ALERT],
                           timeout_s=0.3, retries=1, backoff_s=0.01)  # fmt: skip
        elapsed = time.monotonic() - started
    finally:
        listener.close()
    assert not done.ok and done.attempts == 2
    assert 0.5 < elapsed < 3


def test_nothing_is_sent_without_alerts(receiver: Receiver) -> None:
    assert alerts.deliver([], [Webhook("json", receiver.url)]) == []
    assert receiver.bodies == []
