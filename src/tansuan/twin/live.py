"""The live simulator: sends the twin's readings as a plant would, as time passes.

* points with an HJ 212 address go to the HJ 212 gateway as the data logger would
  send them: one ``2051`` (minute data) upload per time stamp and logger, each value
  with its ``Avg`` and ``Flag`` (``C`` while the analyser calibrates), through the real
  :class:`~tansuan.gateways.hj212.client.Hj212Client` (answers awaited, resent);
* points with a Modbus address are served from Modbus TCP servers (one per connection,
  :mod:`.modbus_server`) when ``modbus`` is on — tansuan's Modbus gateway polls them;
* points with an OPC UA address are variables of a PLC server (:mod:`.opcua_server`)
  when ``opcua`` is on — tansuan's OPC UA gateway subscribes to them;
* every other point goes to the MQTT broker when one is configured, as batch messages
  on ``<prefix>/<site>`` (QoS 1, ≤ :data:`MQTT_BATCH` readings each, the scheme of
  :mod:`tansuan.gateways.mqtt_payload`), otherwise to ``POST /api/v1/readings`` as one
  columnar JSON batch per tick (the HTTP fallback).

The twin continues from the state :mod:`.history` left (same seed, same registers at
the start of the last backfilled day), so cumulative registers run on without a jump.
A failed send is logged and retried at the next tick; nothing is skipped.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import orjson

from tansuan.errors import TansuanError
from tansuan.gateways.hj212.client import Hj212Client
from tansuan.site.model import Connection, Site
from tansuan.twin import demo, faults
from tansuan.twin.calendar import local_days
from tansuan.twin.faults import Fault
from tansuan.twin.frame import Frame
from tansuan.twin.history import load_state, state_path
from tansuan.twin.modbus_server import meter_servers
from tansuan.twin.opcua_server import plc_servers
from tansuan.twin.plant import Plant, TwinSpec

log = logging.getLogger(__name__)
#: Readings per MQTT batch message.
MQTT_BATCH = 500
#: Readings per HTTP request (a catch-up after days offline is sent in parts).
HTTP_BATCH = 100_000
#: Seconds between two summary lines in the twin's log (twin.log of the demo).
SUMMARY_S = 600.0


class Summary:
    """What the live twin logs: one INFO line per ``every_s`` with what was sent, and a
    failed send as one WARNING the first time its kind fails in an interval (the
    repeats, one per tick while a server is down, are counted in the summary line).

    An hour of the demo is then a handful of lines, not a line per tick.
    """

    def __init__(self, every_s: float = SUMMARY_S, now: Callable[[], float] = time.monotonic):
        self.every_s = every_s
        self.now = now
        self.started = now()
        self.counts: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()

    def sent(self, what: str, n: int) -> None:
        self.counts[what] += n

    def failed(self, what: str, error: BaseException) -> None:
        if not self.failures[what]:
            log.warning("twin: %s send failed (%s); retrying every tick", what, error)
        self.failures[what] += 1

    def tick(self) -> None:
        """Log the interval's line when ``every_s`` has passed (then start a new one)."""
        elapsed = self.now() - self.started
        if elapsed < self.every_s:
            return
        sent = ", ".join(f"{k} {v:,}" for k, v in sorted(self.counts.items())) or "nothing"
        failed = ", ".join(f"{k} ×{v}" for k, v in sorted(self.failures.items()))
        log.info("twin: last %.0f min sent %s%s", elapsed / 60, sent,
                 f"; failed sends: {failed}" if failed else "")  # fmt: skip
        self.started = self.now()
        self.counts.clear()
        self.failures.clear()


@dataclass(frozen=True)
class LiveOptions:
    url: str = "http://127.0.0.1:8000"
    tick_s: float = 10.0
    duration_s: float | None = None
    hj212: tuple[str, int] | None = ("127.0.0.1", 8212)
    token: str | None = None
    timeout_s: float = 10.0
    mqtt_url: str | None = None
    mqtt_prefix: str = "tansuan"
    modbus: bool = False  #: serve Modbus-mapped points from Modbus TCP servers
    modbus_ports: Mapping[str, int] | None = None  #: connection id -> port override
    opcua: bool = False  #: serve OPC UA-mapped points from a PLC server
    opcua_endpoints: Mapping[str, str] | None = None  #: connection id -> endpoint override
    faults: tuple[Fault, ...] = ()  #: faults to inject into what is sent
    every_step: bool = False  #: every point at every simulation step (the demo's cadence)


@dataclass
class Sent:
    http: int = 0
    hj212: int = 0
    mqtt: int = 0
    modbus: int = 0
    opcua: int = 0


class MqttSender:
    """Publishes batches of readings to ``<prefix>/<site>`` (QoS 1, waits for PUBACK)."""

    def __init__(self, url: str, prefix: str, site_id: str, timeout_s: float) -> None:
        # deferred: paho-mqtt is loaded only when the live twin publishes over MQTT
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion  # deferred: ditto

        from tansuan.gateways.mqtt import BrokerAddress  # deferred: with paho-mqtt

        address = BrokerAddress.parse(url)
        self.topic = f"{prefix}/{site_id}"
        self.timeout_s = timeout_s
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"tansuan-twin-{uuid.uuid4().hex[:8]}",
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        if address.username:
            self.client.username_pw_set(address.username, address.password)
        if address.tls:
            self.client.tls_set()
        self.client.connect(address.host, address.port)
        self.client.loop_start()

    def send(self, frame: Frame) -> int:
        """Publish the frame; the number of readings the broker acknowledged."""
        count = 0
        for start in range(0, frame.n, MQTT_BATCH):
            part = slice(start, start + MQTT_BATCH)
            body = orjson.dumps(
                [
                    {"point": p, "ts": t / 1e6, "value": v, "quality": q}
                    for p, t, v, q in zip(
                        frame.point[part].tolist(), frame.ts_us[part].tolist(),
                        frame.value[part].tolist(), frame.quality[part].tolist(), strict=True,
                    )
                ]
            )  # fmt: skip
            info = self.client.publish(self.topic, body, qos=1)
            info.wait_for_publish(self.timeout_s)
            if not info.is_published():
                raise OSError("the MQTT broker did not acknowledge a batch")
            count += min(MQTT_BATCH, frame.n - start)
        return count

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class LiveTwin:
    """A plant's twin that hands out, tick by tick, the readings due since the last tick."""

    def __init__(self, site: Site, spec: TwinSpec, *, registers: dict[str, float] | None = None,
                 day: dt.date | None = None, sent_until_us: int | None = None,
                 step_s: int | None = None, every_step: bool = False) -> None:  # fmt: skip
        self.site = site
        self.plant = Plant(site, spec)
        if registers:
            self.plant.registers.update(registers)
        self.zone = ZoneInfo(site.timezone)
        self.day = day or dt.datetime.now(self.zone).date()
        self.frame = Frame.empty()
        self.sent_until_us = sent_until_us
        self.latest: dict[str, float] = {}
        self.step_s = step_s  # the backfill's simulation step, so registers run on exactly
        self.every_step = every_step

    def due(self, now_us: int) -> Frame:
        """Readings stamped after the last call and at or before ``now_us``."""
        today = dt.datetime.fromtimestamp(now_us / 1e6, self.zone).date()
        if self.frame.n == 0 or today > self.day:
            frames = [self.frame] if self.frame.n else []
            first = self.day if self.frame.n == 0 else self.day + dt.timedelta(days=1)
            for day in local_days(first, today + dt.timedelta(days=1)):
                frame, _ = self.plant.day(day, step_s=self.step_s, every_step=self.every_step)
                frames.append(frame)
            self.frame = Frame.concat(frames)
            self.day = today
        if self.sent_until_us is None:
            self.sent_until_us = now_us - 1
        past = self.frame.take(self.frame.ts_us <= now_us)
        order = np.argsort(past.ts_us, kind="stable")
        self.latest.update(zip(past.point[order].tolist(), past.value[order].tolist(), strict=True))
        mask = (self.frame.ts_us > self.sent_until_us) & (self.frame.ts_us <= now_us)
        out = self.frame.take(mask)
        self.frame = self.frame.take(self.frame.ts_us > now_us)
        self.sent_until_us = now_us
        return out


def hj212_points(site: Site) -> dict[str, tuple[str, str]]:
    """Point id -> (connection id, pollutant code) for points sent over HJ 212."""
    out = {}
    for _, device in site.iter_devices():
        for point in device.points:
            address = point.protocol.hj212
            if address is not None:
                out[point.id] = (address.connection, address.code)
    return out


def hj212_uploads(site: Site, frame: Frame) -> list[tuple[str, str, dict[str, dict[str, object]]]]:
    """(connection, DataTime, values) of each 2051 upload the frame's HJ 212 rows make."""
    mapping = hj212_points(site)
    zone = ZoneInfo(site.timezone)
    grouped: dict[tuple[str, int], dict[str, dict[str, object]]] = defaultdict(dict)
    for point, ts, value, flag in zip(
        frame.point.tolist(),
        frame.ts_us.tolist(),
        frame.value.tolist(),
        frame.quality.tolist(),
        strict=True,
    ):
        connection, code = mapping[point]
        grouped[(connection, ts)][code] = {"Avg": f"{value:.4f}", "Flag": flag}
    out = []
    for (connection, ts), values in sorted(grouped.items(), key=lambda kv: kv[0][1]):
        local = dt.datetime.fromtimestamp(ts / 1e6, zone)
        out.append((connection, local.strftime("%Y%m%d%H%M%S"), values))
    return out


def post_readings(url: str, site_id: str, frame: Frame, token: str | None, timeout_s: float) -> int:
    """POST the frame as one columnar JSON batch; the number of rows accepted."""
    body = orjson.dumps(
        {
            "site": site_id,
            "point": frame.point.tolist(),
            "ts": (frame.ts_us / 1e6).tolist(),
            "value": frame.value.tolist(),
            "quality": frame.quality.tolist(),
        }
    )
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        url.rstrip("/") + "/api/v1/readings", data=body, headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        answer = orjson.loads(response.read())
    if answer.get("rejected"):
        log.warning("twin: %s readings rejected, e.g. %s", answer["rejected"], answer["errors"][:1])
    return int(answer.get("accepted", 0))


async def run(site_name: str, data_dir: Path, options: LiveOptions, *, seed: int = 7) -> Sent:
    """Send live readings until cancelled (or ``duration_s`` has passed)."""
    model = demo.site_model(site_name)
    site = model.sites()[0]
    state = load_state(state_path(data_dir, site.id))
    spec: TwinSpec
    if state is not None:
        intervention = (
            dt.date.fromisoformat(state["intervention"]) if state["intervention"] else None
        )
        spec = demo.spec(site_name, seed=int(state["seed"]), intervention=intervention)
        if leak := state.get("leak"):  # the leak began when the history says, not 21 days ago
            spec = dataclasses.replace(
                spec, leak=(str(leak[0]), dt.date.fromisoformat(leak[1]), float(leak[2]))
            )
        twin = LiveTwin(site, spec, registers=state["registers"],
                        day=dt.date.fromisoformat(state["day"]),
                        sent_until_us=state.get("last_ts_us") or None,
                        step_s=state.get("base_step_s"),
                        every_step=options.every_step)  # fmt: skip
    else:
        twin = LiveTwin(site, demo.spec(site_name, seed=seed), every_step=options.every_step)
    mapping = hj212_points(site)
    connections = {c.id: c for c in site.connections}
    twin.plant.resets = [f for f in options.faults if f.kind == "counter_reset"]
    injected = [f for f in options.faults if f.kind != "counter_reset"]
    clients: dict[str, Hj212Client] = {}
    mqtt_sender: MqttSender | None = None
    if options.mqtt_url:
        mqtt_sender = await asyncio.to_thread(
            MqttSender, options.mqtt_url, options.mqtt_prefix, site.id, options.timeout_s
        )
    sent = Sent()
    summary = Summary()
    backlog = Frame.empty()
    servers = meter_servers(site) if options.modbus else []
    plcs = plc_servers(site) if options.opcua else []
    served = [p for server in servers for p in server.points]
    served += [p for plc in plcs for p in plc.points]
    if servers or plcs:
        twin.due(time.time_ns() // 1000 - int(options.tick_s * 1e6))  # fill ``latest``
    for plc in plcs:
        endpoint = (options.opcua_endpoints or {}).get(plc.connection.id, plc.connection.endpoint)
        await plc.start(endpoint or "opc.tcp://127.0.0.1:4840/tansuan/", twin.latest)
    if servers:
        for server in servers:
            server.update(twin.latest)
            port = (options.modbus_ports or {}).get(server.connection.id, server.connection.port)
            await server.start(server.connection.host or "127.0.0.1", port or 502)
    started = time.monotonic()
    try:
        while options.duration_s is None or time.monotonic() - started < options.duration_s:
            due = faults.apply(twin.due(time.time_ns() // 1000), injected)
            frame = Frame.concat([backlog, due])
            backlog = Frame.empty()
            via_hj212 = np.isin(frame.point, np.asarray(list(mapping), dtype=object))
            if options.hj212 is None:
                via_hj212[:] = False
            if served:
                for server in servers:
                    n = server.update(twin.latest)
                    sent.modbus += n
                    summary.sent("Modbus updates", n)
                for plc in plcs:
                    n = await plc.update(twin.latest)
                    sent.opcua += n
                    summary.sent("OPC UA updates", n)
                frame = frame.take(~np.isin(frame.point, np.asarray(served, dtype=object)))
                via_hj212 = np.isin(frame.point, np.asarray(list(mapping), dtype=object))
                if options.hj212 is None:
                    via_hj212[:] = False
            http_rows, hj_rows = frame.take(~via_hj212), frame.take(via_hj212)
            if hj_rows.n:
                try:
                    n = await _send_hj212(site, hj_rows, connections, clients, options)
                    sent.hj212 += n
                    summary.sent("HJ 212 readings", n)
                except (OSError, TansuanError) as exc:
                    summary.failed("HJ 212", exc)
                    clients.clear()
                    backlog = Frame.concat([backlog, hj_rows])
            if http_rows.n and mqtt_sender is not None:
                try:
                    n = await asyncio.to_thread(mqtt_sender.send, http_rows)
                    sent.mqtt += n
                    summary.sent("MQTT readings", n)
                except OSError as exc:
                    summary.failed("MQTT", exc)
                    backlog = Frame.concat([backlog, http_rows])
            elif http_rows.n:
                order = np.argsort(http_rows.ts_us, kind="stable")
                http_rows = http_rows.take(order)
                for start in range(0, http_rows.n, HTTP_BATCH):
                    part = http_rows.take(np.arange(start, min(start + HTTP_BATCH, http_rows.n)))
                    try:
                        n = await asyncio.to_thread(
                            post_readings, options.url, site.id, part, options.token,
                            options.timeout_s,
                        )  # fmt: skip
                        sent.http += n
                        summary.sent("HTTP readings", n)
                    except (OSError, urllib.error.URLError) as exc:
                        summary.failed("HTTP", exc)
                        rest = np.arange(start, http_rows.n)
                        backlog = Frame.concat([backlog, http_rows.take(rest)])
                        break
            summary.tick()
            await asyncio.sleep(options.tick_s)
    finally:
        for client in clients.values():
            await client.close()
        if mqtt_sender is not None:
            mqtt_sender.close()
        for server in servers:
            await server.stop()
        for plc in plcs:
            await plc.stop()
    return sent


async def _send_hj212(
    site: Site,
    frame: Frame,
    connections: Mapping[str, Connection],
    clients: dict[str, Hj212Client],
    options: LiveOptions,
) -> int:
    assert options.hj212 is not None
    host, port = options.hj212
    count = 0
    for connection_id, data_time, values in hj212_uploads(site, frame):
        client = clients.get(connection_id)
        if client is None:
            connection = connections[connection_id]
            client = Hj212Client(
                host, port, mn=connection.mn or "", pw=connection.password or "",
                timeout_s=options.timeout_s, retries=2,
            )  # fmt: skip
            await client.connect()
            clients[connection_id] = client
        await client.upload("2051", data_time, values)
        count += len(values)
    return count
