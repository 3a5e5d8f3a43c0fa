"""Hostile MQTT messages (found by bench/soak_mqtt.py): no message may stop the gateway.

An exception out of ``on_message`` kills paho's network thread: the process stays up
but reads, acks and pings nothing more, and the broker drops it after 1.5 keep-alives.
"""

from __future__ import annotations

import datetime as dt

import paho.mqtt.client as mqtt
import pytest

from tansuan.gateways import mqtt as mqtt_module
from tansuan.gateways.mqtt import MqttGateway
from tansuan.gateways.mqtt_payload import Rejected, Route, TopicScheme, decode

from .conftest import wait_until
from .sqlite_sink import SqliteSink
from .test_mqtt_gateway import gateway, publisher, send
from .test_mqtt_payload import model

RECEIVED = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("quality", [b"{}", b"[]", b'["N"]', b"1", b"null"])
def test_a_quality_of_any_json_type_is_rejected(quality: bytes) -> None:
    """``{}`` and ``[]`` are unhashable: ``quality in QUALITY_FLAGS`` raised TypeError."""
    with pytest.raises(Rejected) as caught:
        decode(
            Route("plant", "fan.power"),
            b'{"value": 1, "quality": ' + quality + b"}",
            TopicScheme("tansuan", model()),
            RECEIVED,
        )
    assert (caught.value.issue.code, caught.value.issue.path) == ("quality.unknown", "$.quality")


def _offline_gateway() -> MqttGateway:
    """A gateway that is never started: its callbacks are called by hand."""
    return MqttGateway(
        lambda readings: None, url="mqtt://127.0.0.1:1", client_id="t", model=model()
    )


def _message(topic: bytes, payload: bytes) -> mqtt.MQTTMessage:
    msg = mqtt.MQTTMessage(mid=7, topic=topic)
    msg.payload = payload
    msg.qos = 1
    return msg


def test_on_message_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    """A decoder bug and a topic that is not UTF-8 become rejections to ack, not
    exceptions in paho's thread."""
    gw = _offline_gateway()

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    gw._on_message(gw._client, None, _message(b"tansuan/plant/fan.\xff", b"1"))
    monkeypatch.setattr(mqtt_module, "decode", broken)
    gw._on_message(gw._client, None, _message(b"tansuan/plant/fan.power", b"1"))
    items = gw._inbox.take()
    assert [(i.mid, i.readings, i.rejection and i.rejection.code) for i in items] == [
        (7, None, "topic.utf8"),
        (7, None, "payload.invalid"),
    ]
    assert items[0].topic == "tansuan/plant/fan.\ufffd"


def test_gateway_survives_an_unhashable_quality(
    mqtt_url: str, prefix: str, sink: SqliteSink
) -> None:
    """The soak's first finding, end to end: after the bad message, the next is stored."""
    gw = gateway(sink, mqtt_url, prefix, f"gw-{prefix}")
    try:
        with publisher(mqtt_url) as pub:
            send(pub, f"{prefix}/plant/fan.power", b'{"value": 1, "quality": {}}')
            send(pub, f"{prefix}/plant/fan.power", {"value": 2, "ts": 1714521600})
            wait_until(lambda: sink.count() == 1, what="the good message committed")
        assert gw._client._thread is not None and gw._client._thread.is_alive()
        assert [r.code for r in gw.rejections] == ["quality.unknown"]
    finally:
        gw.stop()
