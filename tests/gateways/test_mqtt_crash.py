"""`tansuan gateway mqtt` as a real process that dies mid-message: nothing is lost.

The gateway runs the CLI with a test sink (tests/gateways/sqlite_sink.py, plugged in
through TANSUAN_GATEWAY_SINK) that can kill the process before or after its commit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson

from .conftest import wait_until
from .sqlite_sink import SqliteSink
from .test_mqtt_gateway import publisher, send

HERE = Path(__file__).resolve().parent

SITE_YAML = """\
version: 1
organisation:
  id: g
  companies:
    - id: c
      sites:
        - id: plant
          areas:
            - id: shop
              devices:
                - id: fan
                  class: fan
                  points:
                    - {id: fan.power, quantity: power, unit: kW}
"""


class GatewayProcess:
    def __init__(self, tmp: Path, url: str, prefix: str, fault: str | None) -> None:
        site = tmp / "site.yaml"
        site.write_text(SITE_YAML)
        self.log = tmp / f"gateway-{time.monotonic_ns()}.log"
        env = dict(os.environ)
        env.update(
            TANSUAN_MQTT_URL=url,
            TANSUAN_MQTT_TOPIC_PREFIX=prefix,
            TANSUAN_MQTT_CLIENT_ID=f"gw-{prefix}",
            TANSUAN_GATEWAY_SINK="sqlite_sink:make_sink",
            TANSUAN_TEST_SINK_DB=str(tmp / "sink.db"),
            PYTHONPATH=os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")]),
        )
        env.pop("TANSUAN_TEST_SINK_FAULT", None)
        if fault:
            env["TANSUAN_TEST_SINK_FAULT"] = fault
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tansuan.cli", "gateway", "mqtt", "--site-model", str(site)],
                cwd=tmp,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        wait_until(
            lambda: "subscribed" in self.log.read_text() or self.proc.poll() is not None,
            timeout=30,
            what="the gateway to subscribe",
        )
        assert self.proc.poll() is None, self.log.read_text()

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(15)


def test_killed_before_commit_the_message_is_redelivered(
    tmp_path: Path, mqtt_url: str, prefix: str
) -> None:
    first = GatewayProcess(tmp_path, mqtt_url, prefix, "exit-before-commit")
    with publisher(mqtt_url) as pub:
        send(pub, f"{prefix}/plant/fan.power", {"value": 12.5, "ts": 1714521600})
    assert first.proc.wait(15) == 17  # died inside the sink, before committing
    db = SqliteSink(tmp_path / "sink.db")
    assert db.count() == 0

    second = GatewayProcess(tmp_path, mqtt_url, prefix, None)
    try:
        wait_until(lambda: db.count() == 1, timeout=15, what="the re-delivered reading")
    finally:
        assert second.stop() == 0
    assert db.rows() == [("plant", "fan.power", "2024-05-01T00:00:00+00:00", 12.5, None, "N")]
    assert db.count("deliveries") == 1
    db.close()


def test_killed_after_commit_before_ack_the_redelivery_is_stored_once(
    tmp_path: Path, mqtt_url: str, prefix: str
) -> None:
    """Committed but not acked: the broker sends it again; the sink sees it twice, the
    (site, point, ts) key keeps one row — the dedupe ingest does."""
    first = GatewayProcess(tmp_path, mqtt_url, prefix, "exit-after-commit")
    with publisher(mqtt_url) as pub:
        send(pub, f"{prefix}/plant/fan.power", orjson.dumps({"value": 3.25, "ts": 1714521600}))
    assert first.proc.wait(15) == 18
    db = SqliteSink(tmp_path / "sink.db")
    assert (db.count(), db.count("deliveries")) == (1, 1)

    second = GatewayProcess(tmp_path, mqtt_url, prefix, None)
    try:
        wait_until(lambda: db.count("deliveries") == 2, timeout=15, what="the re-delivery")
    finally:
        assert second.stop() == 0
    assert db.rows() == [("plant", "fan.power", "2024-05-01T00:00:00+00:00", 3.25, None, "N")]
    db.close()
