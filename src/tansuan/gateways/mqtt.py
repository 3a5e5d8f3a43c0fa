"""MQTT gateway: subscribes to a broker and hands readings to the sink, acking after commit.

The topic and payload scheme is in :mod:`tansuan.gateways.mqtt_payload` (and in
``docs/protocols.md``). This module is the client around it:

* **Persistent session, QoS 1, ack after commit.** MQTT 5 with ``clean_start=False``
  and a session expiry interval, subscriptions at QoS 1, and paho's *manual ack*: a
  PUBACK is sent only after the sink has returned (i.e. ingest has committed). If the
  process dies between receipt and commit, the broker still holds the message as
  in flight and re-delivers it when the same client id reconnects.
* **Batching.** paho's network thread (``loop_start``) decodes each message and puts
  it in a :class:`~tansuan.gateways.base.HandOver`; one committer thread takes
  everything waiting (up to ``batch_max`` messages) and makes *one* sink call for it,
  then acks the messages in the order they arrived (MQTT 5 §4.6). ``receive_maximum``
  (< 65,535) bounds the messages in flight.
* **Bad messages** (undecodable, unknown site or point, or refused by ingest with an
  :class:`~tansuan.errors.InputError`) are logged, counted in
  ``tansuan_mqtt_rejected_total{reason=…}``, reported as a JSON notice on
  ``<prefix>/_rejected`` and in :attr:`MqttGateway.rejections`, and **acked** so they
  are not re-delivered for ever. Any other sink failure (database down) is transient:
  nothing is acked, the same batch is retried with exponential back-off (0.5 s
  doubling to ``reconnect_max_s``, :class:`~tansuan.gateways.base.Backoff`).
* **Reconnects** with paho's exponential back-off (1 s doubling to
  ``reconnect_max_s``). Acks are only sent on the connection a message arrived on; a
  message received before a reconnect is re-delivered by the broker and acked then.
"""

from __future__ import annotations

import datetime as dt
import logging
import struct
import threading
from collections import deque
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from tansuan.errors import ConfigError, InputError, Issue
from tansuan.gateways.base import COUNTERS, Backoff, HandOver, Sink
from tansuan.gateways.mqtt_payload import Rejected, Route, TopicScheme, decode
from tansuan.ingest.reading import Reading
from tansuan.site.model import SiteModel

log = logging.getLogger(__name__)

for _name, _help in {
    "tansuan_mqtt_messages_total": "MQTT messages handled: committed or rejected, then acked.",
    "tansuan_mqtt_readings_total": "Readings from MQTT committed by the sink.",
    "tansuan_mqtt_commits_total": "Sink calls that committed a batch of MQTT messages.",
    "tansuan_mqtt_redelivered_total": "MQTT messages received with the DUP flag (re-deliveries).",
    "tansuan_mqtt_rejected_total": "MQTT messages rejected (acked, not stored), by reason.",
    "tansuan_mqtt_errors_total": "Transient sink failures; the batch is retried, not acked.",
    "tansuan_mqtt_connections_total": "Successful connections to the MQTT broker.",
    "tansuan_mqtt_disconnects_total": "Losses of the connection to the MQTT broker.",
}.items():
    COUNTERS.describe(_name, _help)

_STOPPED = object()


@dataclass(slots=True)
class BrokerAddress:
    """Where the broker is, parsed from ``mqtt://[user[:password]@]host[:port]``."""

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        """Parse a broker URL (schemes mqtt/tcp, or mqtts/ssl for TLS).

        >>> BrokerAddress.parse("mqtt://127.0.0.1:51884")
        BrokerAddress(host='127.0.0.1', port=51884, tls=False, username=None, password=None)
        """
        parts = urlsplit(url)
        if parts.scheme not in {"mqtt", "tcp", "mqtts", "ssl"} or not parts.hostname:
            raise ConfigError(f"not an MQTT URL: {url!r} (mqtt://host:port)", field="mqtt_url")
        tls = parts.scheme in {"mqtts", "ssl"}
        try:
            port = parts.port or (8883 if tls else 1883)
        except ValueError:
            raise ConfigError(f"bad port in {url!r}", field="mqtt_url") from None
        return cls(
            parts.hostname,
            port,
            tls,
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None,
        )


class _BufferedClient(mqtt.Client):
    """paho's client, reading the socket in 64 KiB chunks instead of a syscall per field.

    paho 2.x reads each packet with three or more ``recv`` calls and handles one packet
    per ``select`` wake-up; under load that, not our code, caps the message rate. Here
    ``_sock_recv`` serves from a buffer refilled by one ``recv(65536)``, and
    ``loop_read`` handles every packet already received. Both overrides keep paho's
    contracts (``BlockingIOError`` when nothing is buffered); the tests exercise them.
    """

    _rbuf = b""
    _rbuf_pos = 0
    _rbuf_sock: object = None

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._rbuf_sock is not self._sock:  # a new connection: drop stale bytes
            self._rbuf, self._rbuf_pos, self._rbuf_sock = b"", 0, self._sock
        if self._rbuf_pos >= len(self._rbuf):
            self._rbuf = super()._sock_recv(65536)
            self._rbuf_pos = 0
            if not self._rbuf:
                return b""  # the peer closed the connection
        pos = self._rbuf_pos
        self._rbuf_pos = pos + bufsize
        return self._rbuf[pos : pos + bufsize]

    def ack_many(self, mids: list[int]) -> None:
        """PUBACK the QoS 1 messages ``mids``, in order, waking the network loop once
        (``ack()`` writes to paho's wake-up socket once per message)."""
        out = self._out_packet
        for mid in mids:
            packet = struct.pack("!BBH", mqtt.PUBACK, 2, mid)
            out.append(
                {
                    "command": mqtt.PUBACK,
                    "mid": mid,
                    "qos": 1,
                    "pos": 0,
                    "to_process": 4,
                    "packet": packet,
                    "info": None,
                }
            )
        if self._sockpairW is not None:
            try:
                self._sockpairW.send(b"0")
            except BlockingIOError:
                pass

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        if self._sock is None:
            return MQTTErrorCode.MQTT_ERR_NO_CONN
        while True:  # until the socket would block: select() sees no buffered bytes
            if self._sock is None:
                return MQTTErrorCode.MQTT_ERR_NO_CONN
            rc = self._packet_read()
            if rc > 0:
                return self._loop_rc_handle(rc)
            if rc == MQTTErrorCode.MQTT_ERR_AGAIN:
                return MQTTErrorCode.MQTT_ERR_SUCCESS


@dataclass(slots=True)
class _Inbound:
    mid: int
    qos: int
    generation: int
    topic: str
    dup: bool
    readings: list[Reading] | None
    rejection: Issue | None


class MqttGateway:
    """Subscribes to the broker and hands decoded readings to ``sink``.

    Parameters
    ----------
    sink
        Commits a batch of readings durably, or raises.
    url
        Broker URL, ``mqtt://host:1883``.
    client_id
        Stable client id: the broker keeps the session (and un-acked messages) under it.
    prefix
        Root topic of the native scheme.
    model
        Site model: checks sites and points, and adds its mapped topics.
    session_expiry_s
        How long [s] the broker keeps the session while the gateway is away.
    receive_maximum
        Most QoS 1 messages the broker may have in flight to us (1..65,535).
    batch_max
        Most messages per sink call.
    max_payload_bytes
        Larger messages are rejected unread.
    reconnect_max_s
        Ceiling [s] of the exponential reconnect back-off.
    """

    def __init__(
        self,
        sink: Sink,
        *,
        url: str,
        client_id: str,
        prefix: str = "tansuan",
        model: SiteModel | None = None,
        session_expiry_s: int = 86_400,
        receive_maximum: int = 10_000,
        batch_max: int = 5_000,
        max_payload_bytes: int = 1_048_576,
        max_readings: int = 10_000,
        reconnect_max_s: float = 60.0,
    ) -> None:
        if not 1 <= receive_maximum <= 65_535:
            raise ConfigError("must be 1..65535", field="mqtt_receive_maximum")
        self.sink = sink
        self.address = BrokerAddress.parse(url)
        self.client_id = client_id
        self.scheme = TopicScheme(prefix, model)
        self.reject_topic = f"{self.scheme.prefix}/_rejected"
        self.session_expiry_s = session_expiry_s
        self.receive_maximum = receive_maximum
        self.batch_max = batch_max
        self.max_payload_bytes = max_payload_bytes
        self.max_readings = max_readings
        self.reconnect_max_s = reconnect_max_s
        #: The last 100 rejected messages, newest last.
        self.rejections: deque[Issue] = deque(maxlen=100)
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._inbox: HandOver[_Inbound] = HandOver()
        self._generation = 0
        self._committer: threading.Thread | None = None
        self._client: _BufferedClient = self._make_client()

    # -- lifecycle -----------------------------------------------------------------

    def _make_client(self) -> _BufferedClient:
        client = _BufferedClient(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=MQTTProtocolVersion.MQTTv5,
            manual_ack=True,
        )
        if self.address.username:
            client.username_pw_set(self.address.username, self.address.password)
        if self.address.tls:
            client.tls_set()
        client.reconnect_delay_set(1, max(1, int(self.reconnect_max_s)))
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    def start(self) -> None:
        """Connect in the background (retrying with back-off) and start committing."""
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self.session_expiry_s
        props.ReceiveMaximum = self.receive_maximum
        self._stop.clear()
        self._committer = threading.Thread(
            target=self._commit_loop, name="tansuan-mqtt-commit", daemon=True
        )
        self._committer.start()
        self._client.connect_async(
            self.address.host,
            self.address.port,
            keepalive=30,
            clean_start=False,
            properties=props,
        )
        self._client.loop_start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop committing, then disconnect; un-acked messages stay with the broker."""
        self._stop.set()
        if self._committer is not None:
            self._committer.join(timeout)
        self._client.disconnect()
        self._client.loop_stop()
        self.connected.clear()

    def __enter__(self) -> MqttGateway:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- paho callbacks (network thread) ---------------------------------------------

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            log.warning("mqtt: broker %s refused the connection: %s", self.address.host, reason)
            return
        self._generation += 1
        COUNTERS.inc("tansuan_mqtt_connections_total")
        log.info(
            "mqtt: connected to %s:%s as %s (session present: %s)",
            self.address.host,
            self.address.port,
            self.client_id,
            flags.session_present,
        )
        options = SubscribeOptions(qos=1, noLocal=True)
        client.subscribe([(topic, options) for topic in self.scheme.subscriptions()])
        self.connected.set()

    def _on_subscribe(
        self,
        client: mqtt.Client,
        userdata: object,
        mid: int,
        reasons: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        refused = [r for r in reasons if r.is_failure or r.value < 1]
        if refused:
            log.error(
                "mqtt: broker refused QoS 1 for %d topic filter(s): %s", len(refused), refused
            )
        else:
            log.info("mqtt: subscribed to %d topic filter(s) at QoS 1", len(reasons))

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self.connected.clear()
        if not self._stop.is_set():
            COUNTERS.inc("tansuan_mqtt_disconnects_total")
            log.warning("mqtt: lost the broker (%s); reconnecting with back-off", reason)

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        # Nothing may escape this callback: paho's network thread dies with an exception
        # raised here, and the gateway stays up but deaf (no reads, no acks, no pings).
        readings: list[Reading] | None = None
        rejection: Issue | None = None
        try:
            topic = msg.topic
        except UnicodeDecodeError:
            topic = msg._topic.decode("utf-8", "replace")  # noqa: SLF001 - for the notice
            rejection = Issue("topic.utf8", topic, "the topic is not UTF-8")
        try:
            route: Route | None = None if rejection else self.scheme.route(topic)
            if route is not None:
                if len(msg.payload) > self.max_payload_bytes:
                    raise Rejected(
                        "payload.too_large",
                        "$",
                        f"{len(msg.payload)} bytes, at most {self.max_payload_bytes} allowed",
                    )
                received = dt.datetime.now(dt.UTC)
                readings = decode(
                    route, bytes(msg.payload), self.scheme, received, max_readings=self.max_readings
                )
        except Rejected as error:
            issue = error.issue
            rejection = Issue(issue.code, f"{topic} {issue.path}", issue.detail)
        except Exception as error:  # a decoder bug: reject and ack this message, go on
            log.exception("mqtt: cannot decode a message on %r", topic)
            readings = None
            rejection = Issue("payload.invalid", topic, f"cannot decode: {type(error).__name__}")
        self._inbox.put(
            _Inbound(msg.mid, msg.qos, self._generation, topic, msg.dup, readings, rejection)
        )

    # -- committer thread ----------------------------------------------------------

    def _commit_loop(self) -> None:
        take = self._inbox.take
        while not self._stop.is_set():
            batch = take(self.batch_max, timeout=0.2)
            if batch:
                self._commit(batch)

    def _commit(self, batch: list[_Inbound]) -> None:
        good = [item for item in batch if item.readings]
        readings = [r for item in good for r in item.readings or ()]
        outcome = self._deliver(readings) if readings else None
        if outcome is _STOPPED:
            return
        if isinstance(outcome, Issue):
            if len(good) == 1:
                good[0].rejection = Issue(outcome.code, good[0].topic, outcome.detail)
            else:  # find the message(s) ingest refuses; commit the others
                for item in good:
                    single = self._deliver(item.readings or [])
                    if single is _STOPPED:
                        return
                    if isinstance(single, Issue):
                        item.rejection = Issue(single.code, item.topic, single.detail)
        n_readings = sum(len(i.readings or ()) for i in good if i.rejection is None)
        n_dup = sum(1 for item in batch if item.dup)
        COUNTERS.inc("tansuan_mqtt_messages_total", len(batch))
        COUNTERS.inc("tansuan_mqtt_readings_total", n_readings)
        if n_dup:
            COUNTERS.inc("tansuan_mqtt_redelivered_total", n_dup)
        for item in batch:
            if item.rejection is not None:
                self._report(item.rejection)
        generation = self._generation
        current = [item for item in batch if item.qos and item.generation == generation]
        if all(item.qos == 1 for item in current):
            self._client.ack_many([item.mid for item in current])
        else:  # a QoS 2 subscription was granted by some broker: paho's own path
            for item in current:
                self._client.ack(item.mid, item.qos)

    def _deliver(self, readings: list[Reading]) -> object:
        """Sink the readings: ``None`` when committed, an Issue when ingest refuses them,
        ``_STOPPED`` when stopped while retrying a transient failure."""
        backoff = Backoff(self.reconnect_max_s)
        while True:
            try:
                self.sink(readings)
            except InputError as error:
                return Issue("sink.rejected", "", str(error))
            except Exception as error:
                COUNTERS.inc("tansuan_mqtt_errors_total")
                log.warning(
                    "mqtt: sink failed (%s: %s); %d readings not acked, retry in %.1f s",
                    type(error).__name__,
                    error,
                    len(readings),
                    backoff.delay,
                )
                if backoff.wait_blocking(self._stop):
                    return _STOPPED
            else:
                COUNTERS.inc("tansuan_mqtt_commits_total")
                return None

    def _report(self, issue: Issue) -> None:
        COUNTERS.inc("tansuan_mqtt_rejected_total", reason=issue.code)
        log.warning("mqtt: rejected %s", issue)
        self.rejections.append(issue)
        notice = {
            "topic": issue.path.split(" ", 1)[0],
            "code": issue.code,
            "path": issue.path,
            "detail": issue.detail,
            "client_id": self.client_id,
            "ts": dt.datetime.now(dt.UTC).isoformat(),
        }
        self._client.publish(self.reject_topic, orjson.dumps(notice), qos=0)
