"""MQTT gateway against a real Mosquitto: commit then ack, rejects, retries, re-delivery."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from tansuan.gateways.base import COUNTERS
from tansuan.gateways.mqtt import BrokerAddress, MqttGateway

from .conftest import free_port, wait_until
from .sqlite_sink import SqliteSink
from .test_mqtt_payload import model


@contextmanager
def publisher(url: str) -> Iterator[mqtt.Client]:
    address = BrokerAddress.parse(url)
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"test-pub-{uuid.uuid4().hex[:8]}",
        protocol=MQTTProtocolVersion.MQTTv5,
    )
    client.connect(address.host, address.port)
    client.loop_start()
    try:
        yield client
    finally:
        client.disconnect()
        client.loop_stop()


def send(client: mqtt.Client, topic: str, payload: object) -> None:
    body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    client.publish(topic, body, qos=1).wait_for_publish(5)


def gateway(sink: SqliteSink, url: str, prefix: str, client_id: str, **kw: object) -> MqttGateway:
    gw = MqttGateway(sink, url=url, client_id=client_id, prefix=prefix, session_expiry_s=300, **kw)  # type: ignore[arg-type]
    gw.start()
    assert gw.connected.wait(10), "gateway did not connect"
    time.sleep(0.3)  # the SUBACK
    return gw


def test_readings_are_committed_then_acked(mqtt_url: str, prefix: str, sink: SqliteSink) -> None:
    """Three payload forms; every reading lands in the table with the values sent.
    Unix 1714521600 = 2024-05-01T00:00:00Z; 08:01+08:00 = 00:01Z."""
    before = COUNTERS.get("tansuan_mqtt_readings_total")
    gw = gateway(sink, mqtt_url, prefix, f"gw-{prefix}")
    try:
        with publisher(mqtt_url) as pub:
            send(pub, f"{prefix}/plant/fan.power", {"value": 21.5, "ts": 1714521600, "unit": "kW"})
            send(
                pub, f"{prefix}/plant/fan.power", [{"value": 22, "ts": "2024-05-01T08:01:00+08:00"}]
            )
            send(
                pub,
                f"{prefix}/plant",
                [{"point": "m7.power", "value": 3, "ts": 1714521600, "quality": "M"}],
            )
            wait_until(lambda: sink.count() == 3, what="3 readings")
    finally:
        gw.stop()
    assert sink.rows() == [
        ("plant", "fan.power", "2024-05-01T00:00:00+00:00", 21.5, "kW", "N"),
        ("plant", "fan.power", "2024-05-01T00:01:00+00:00", 22.0, None, "N"),
        ("plant", "m7.power", "2024-05-01T00:00:00+00:00", 3.0, None, "M"),
    ]
    assert COUNTERS.get("tansuan_mqtt_readings_total") - before == 3
    # Acked: a new session under the same client id gets nothing re-delivered.
    calls = sink.calls
    gw2 = gateway(sink, mqtt_url, prefix, f"gw-{prefix}")
    time.sleep(1.0)
    gw2.stop()
    assert sink.calls == calls


def test_bad_messages_are_rejected_acked_and_reported(
    mqtt_url: str, prefix: str, sink: SqliteSink
) -> None:
    notices: list[dict[str, str]] = []
    address = BrokerAddress.parse(mqtt_url)
    watcher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"watch-{prefix}")
    watcher.on_message = lambda c, u, m: notices.append(orjson.loads(m.payload))
    watcher.connect(address.host, address.port)
    watcher.subscribe(f"{prefix}/_rejected", qos=1)
    watcher.loop_start()
    before = COUNTERS.get("tansuan_mqtt_rejected_total", reason="ts.naive")
    gw = gateway(sink, mqtt_url, prefix, f"gw-{prefix}", model=model())
    try:
        with publisher(mqtt_url) as pub:
            send(pub, f"{prefix}/plant/fan.power", b"not json")
            send(pub, f"{prefix}/plant/fan.power", {"value": 1, "ts": "2024-05-01T08:00:00"})
            send(pub, f"{prefix}/plant/no.such", {"value": 1})
            send(pub, f"{prefix}/plant/fan.power", {"value": 5, "ts": 1714521600})
            wait_until(lambda: sink.count() == 1 and len(notices) == 3, what="1 row, 3 notices")
    finally:
        gw.stop()
        watcher.disconnect()
        watcher.loop_stop()
    assert [i.code for i in gw.rejections] == ["payload.json", "ts.naive", "point.unknown"]
    assert [n["code"] for n in notices] == ["payload.json", "ts.naive", "point.unknown"]
    assert notices[2]["topic"] == f"{prefix}/plant/no.such"
    assert COUNTERS.get("tansuan_mqtt_rejected_total", reason="ts.naive") - before == 1
    assert sink.rows() == [("plant", "fan.power", "2024-05-01T00:00:00+00:00", 5.0, None, "N")]
    # The rejects were acked: a restart under the same client id does not see them again.
    gw2 = gateway(sink, mqtt_url, prefix, f"gw-{prefix}", model=model())
    time.sleep(1.0)
    gw2.stop()
    assert list(gw2.rejections) == []


def test_mapped_topic_from_the_site_model(mqtt_url: str, prefix: str, sink: SqliteSink) -> None:
    """A device publishing a bare number on its own topic; the site model maps it."""
    topic = f"{prefix}-dev/line1/m7/p"
    site_model = model().model_copy(deep=True)
    gw = MqttGateway(sink, url=mqtt_url, client_id=f"gw-{prefix}", prefix=prefix, model=site_model)
    gw.scheme.mapped = {topic: gw.scheme.mapped["line1/m7/p"]}
    gw.start()
    try:
        assert gw.connected.wait(10)
        time.sleep(0.3)
        with publisher(mqtt_url) as pub:
            send(pub, topic, b"42.5")
            wait_until(lambda: sink.count() == 1, what="mapped reading")
    finally:
        gw.stop()
    (row,) = sink.rows()
    assert row[:2] == ("plant", "m7.power") and row[3] == 42.5


def test_sink_failure_is_not_acked_and_is_redelivered(
    mqtt_url: str, prefix: str, sink: SqliteSink
) -> None:
    """The database is down: nothing is acked. A new gateway process (same client id)
    gets the message again from the broker, marked DUP, and stores it once."""
    sink.fail_next = 10**9
    gw = gateway(sink, mqtt_url, prefix, f"gw-{prefix}")
    with publisher(mqtt_url) as pub:
        send(pub, f"{prefix}/plant/fan.power", {"value": 9, "ts": 1714521600})
        wait_until(lambda: sink.calls >= 1, what="a failed sink call")
    gw.stop()
    assert sink.count() == 0
    sink.fail_next = 0
    dup_before = COUNTERS.get("tansuan_mqtt_redelivered_total")
    gw2 = gateway(sink, mqtt_url, prefix, f"gw-{prefix}")
    try:
        wait_until(lambda: sink.count() == 1, what="the re-delivered reading")
    finally:
        gw2.stop()
    assert sink.rows() == [("plant", "fan.power", "2024-05-01T00:00:00+00:00", 9.0, None, "N")]
    assert COUNTERS.get("tansuan_mqtt_redelivered_total") - dup_before == 1


def test_transient_sink_failure_is_retried_in_place(
    mqtt_url: str, prefix: str, sink: SqliteSink
) -> None:
    sink.fail_next = 2
    errors_before = COUNTERS.get("tansuan_mqtt_errors_total")
    gw = gateway(sink, mqtt_url, prefix, f"gw-{prefix}")
    try:
        with publisher(mqtt_url) as pub:
            send(pub, f"{prefix}/plant/fan.power", {"value": 1, "ts": 1714521600})
            wait_until(lambda: sink.count() == 1, timeout=15, what="stored after 2 failures")
    finally:
        gw.stop()
    assert sink.calls == 3
    assert COUNTERS.get("tansuan_mqtt_errors_total") - errors_before == 2


def test_ingest_refusal_rejects_only_the_bad_message(
    mqtt_url: str, prefix: str, sink: SqliteSink
) -> None:
    """Queued while the gateway is away, 20 messages arrive as a burst (batched); ingest
    refuses the one for point 'bad'; the other 19 are stored, the bad one acked."""
    client_id = f"gw-{prefix}"
    gateway(sink, mqtt_url, prefix, client_id).stop()  # creates the persistent session
    with publisher(mqtt_url) as pub:
        for i in range(20):
            point = "bad" if i == 7 else "fan.power"
            send(pub, f"{prefix}/plant/{point}", {"value": i, "ts": 1714521600 + i})
    sink.refuse_point = "bad"
    gw = gateway(sink, mqtt_url, prefix, client_id)
    try:
        wait_until(lambda: sink.count() == 19 and len(gw.rejections) == 1, what="19 + 1 reject")
    finally:
        gw.stop()
    assert [r.code for r in gw.rejections] == ["sink.rejected"]
    assert sorted(row[3] for row in sink.rows()) == [float(i) for i in range(20) if i != 7]


def test_bad_broker_url_is_a_config_error(sink: SqliteSink) -> None:
    from tansuan.errors import ConfigError

    with pytest.raises(ConfigError, match="not an MQTT URL"):
        MqttGateway(sink, url="http://x", client_id="x")


MOSQUITTO = shutil.which("mosquitto") or (
    "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
)


@pytest.mark.skipif(MOSQUITTO is None, reason="needs the mosquitto binary to restart a broker")
def test_reconnects_after_the_broker_restarts(
    tmp_path: Path, prefix: str, sink: SqliteSink
) -> None:
    """A broker of our own, stopped and started again on the same port."""
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")

    def start_broker() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen([str(MOSQUITTO), "-c", str(conf)], stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        return proc

    url = f"mqtt://127.0.0.1:{port}"
    broker = start_broker()
    connections = COUNTERS.get("tansuan_mqtt_connections_total")
    gw = MqttGateway(sink, url=url, client_id=f"gw-{prefix}", prefix=prefix, reconnect_max_s=2)
    gw.start()
    try:
        assert gw.connected.wait(10)
        broker.terminate()
        broker.wait(5)
        wait_until(lambda: not gw.connected.is_set(), what="the loss to be noticed")
        broker = start_broker()
        assert gw.connected.wait(15), "did not reconnect"
        time.sleep(0.3)
        with publisher(url) as pub:
            send(pub, f"{prefix}/plant/fan.power", {"value": 4, "ts": 1714521600})
            wait_until(lambda: sink.count() == 1, what="a reading after reconnecting")
    finally:
        gw.stop()
        broker.terminate()
        broker.wait(5)
    assert COUNTERS.get("tansuan_mqtt_connections_total") - connections == 2


def test_large_batch_spanning_many_socket_reads(
    mqtt_url: str, prefix: str, sink: SqliteSink
) -> None:
    """A 10,000-reading message (~0.5 MB, many 64 KiB reads) is stored whole; one over
    the byte limit is rejected as payload.too_large; small messages around them pass."""
    batch = [{"point": f"p{i % 50}", "value": i, "ts": 1714521600 + i // 50} for i in range(10_000)]
    body = orjson.dumps(batch)
    assert len(body) > 400_000
    gw = gateway(sink, mqtt_url, prefix, f"gw-{prefix}", max_payload_bytes=len(body))
    try:
        with publisher(mqtt_url) as pub:
            send(pub, f"{prefix}/plant/a", {"value": 1, "ts": 1714521600})
            send(pub, f"{prefix}/plant", body)
            send(pub, f"{prefix}/plant", body + b" ")
            send(pub, f"{prefix}/plant/b", {"value": 2, "ts": 1714521600})
            wait_until(lambda: sink.count() == 10_002, what="10,002 readings")
            wait_until(lambda: len(gw.rejections) == 1, what="the oversized message")
    finally:
        gw.stop()
    assert [r.code for r in gw.rejections] == ["payload.too_large"]
    total = sink.rows("SELECT sum(value) FROM readings WHERE point LIKE 'p%'")[0][0]
    assert total == sum(range(10_000))
