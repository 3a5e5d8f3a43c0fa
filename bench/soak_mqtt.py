"""MQTT gateway soak: RSS of the real ``tansuan gateway mqtt`` under fuzzed messages.

The soak starts its own Mosquitto broker (loopback, anonymous, no persistence, as
``.ci/with-services`` does) and the gateway as its own process (``python -m tansuan.cli
gateway mqtt``) against a fresh SQLite store in a temporary directory, loaded with a
small site model written there (native points and points with a ``protocol.mqtt.topic``).
Publisher processes (``--publishers``, raw MQTT 3.1.1 over one socket each) send
``--messages`` fuzzed messages (fixed seed), most at QoS 1, some at QoS 0: valid readings
of known points (point, mapped and batch topics), valid payloads on unknown points and
sites, random topic names under the prefix (a new topic almost every time), malformed
JSON, wrong types, huge numbers, NaN strings, hostile units, random bytes, a few
payloads over ``--max-payload`` (``TANSUAN_MQTT_MAX_PAYLOAD_BYTES``) and a few lists
of a thousand readings. Every ``--block`` messages a publisher sends a marker on an
unknown site; the gateway rejects it with a notice on ``<prefix>/_rejected``, which the
soak reads: a publisher stays at most ``--window`` blocks ahead of the notices, so
the broker never queues more than it holds (nothing is dropped), and the end of a phase
is the notice of its last marker (everything before it handled, committed or
rejected, and acked). The gateway's RSS (``VmRSS`` of ``/proc/<pid>/status``) is read
before the first message, after ``--warmup`` messages, at the end, and after
``--idle`` seconds of quiet. Target: growth after warm-up < 20 MB (issue 17).

The baseline in the same run is the gateway's RSS right after start (the "before").

Usage::

    PYTHONPATH=src .venv/bin/python bench/soak_mqtt.py [--messages 1000000] [--warmup 100000]

Needs ``mosquitto`` on the PATH (or ``/usr/sbin/mosquitto``). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson

PREFIX = "tansuan"
SITE = "soak-site"
#: native points: id -> (canonical unit, value range of valid readings)
POINTS = {
    "fan-1.power": ("kW", (0.0, 900.0)),
    "fan-1.energy": ("kWh", (0.0, 1e6)),
    "pump-2.power": ("kW", (0.0, 900.0)),
    "pump-2.flow": ("m3/h", (0.0, 500.0)),
}
#: points with a mapped topic: topic -> point id (all in kW)
MAPPED = {
    "plant/line1/m1/power": "m1.power",
    "plant/line1/m2/power": "m2.power",
    "vendor/gw-7/ch3": "m3.power",
}
MODEL = """\
version: 1
organisation:
  id: soak-group
  companies:
    - id: soak-co
      sites:
        - id: soak-site
          timezone: Asia/Shanghai
          areas:
            - id: line1
              devices:
                - id: fan-1
                  class: fan
                  points:
                    - {id: fan-1.power, quantity: power, unit: kW, valid_range: [0, 1000]}
                    - {id: fan-1.energy, quantity: energy, unit: kWh, kind: total_increasing}
                - id: pump-2
                  class: pump
                  points:
                    - {id: pump-2.power, quantity: power, unit: kW}
                    - {id: pump-2.flow, quantity: flow, unit: m3/h}
                - id: meters
                  class: meter
                  points:
"""
MODEL += "".join(
    f"                    - {{id: {point}, quantity: power, unit: kW, "
    f"protocol: {{mqtt: {{topic: {topic}}}}}}}\n"
    for topic, point in MAPPED.items()
)
UNITS = {"kW": ("W", "MW", "kW"), "kWh": ("Wh", "MWh", "kWh"), "m3/h": ("m3/s", "L/s", "m3/h")}
TS_2024 = 1_704_067_200
WORD = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~ "
WIDE = "中文测试点位电表ÄÖÜßéñø😀🔥€ "
MARK = re.compile(rb"soak-mark/(\d+)-(\d+)")


# -- the fuzzer -------------------------------------------------------------------------


def _word(rng: random.Random, low: int = 1, high: int = 16) -> str:
    alphabet = WORD + WIDE if rng.random() < 0.2 else WORD
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))


def _ts(rng: random.Random) -> Any:
    seconds = TS_2024 + rng.randrange(366 * 86400)
    form = rng.randrange(4)
    if form == 0:
        return seconds
    if form == 1:
        return seconds + rng.random()
    if form == 2:
        return time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(seconds + 8 * 3600))
    return None  # the time the gateway received it


def _reading(rng: random.Random, point: str, *, batch: bool = False) -> Any:
    unit, (low, high) = POINTS.get(point, ("kW", (0.0, 900.0)))
    value = round(rng.uniform(low, high), 3)
    if not batch and rng.random() < 0.3:
        return value  # a bare number
    obj: dict[str, Any] = {"value": value}
    if batch:
        obj["point"] = point
    ts = _ts(rng)
    if ts is not None:
        obj["ts"] = ts
    if rng.random() < 0.2:
        obj["unit"] = unit
    if rng.random() < 0.1:
        obj["quality"] = rng.choice("NFMS")
    return obj


def _valid_payload(rng: random.Random, point: str) -> bytes:
    if rng.random() < 0.2:
        return orjson.dumps([_reading(rng, point) for _ in range(rng.randint(1, 5))])
    return orjson.dumps(_reading(rng, point))


def _random_topic(rng: random.Random) -> str:
    """A topic under the prefix the gateway cannot route (or ignores: ``_…``)."""
    kind = rng.randrange(6)
    if kind == 0:  # too deep
        return "/".join([PREFIX, SITE, *(_word(rng, 1, 8) for _ in range(rng.randint(1, 6)))])
    if kind == 1:  # empty levels
        return rng.choice([f"{PREFIX}/{SITE}/", f"{PREFIX}//x", f"{PREFIX}/", f"{PREFIX}//"])
    if kind == 2:  # the gateway's own service tree: ignored, not rejected
        return f"{PREFIX}/_{_word(rng)}"
    if kind == 3:  # long
        return f"{PREFIX}/{_word(rng, 100, 400)}/{_word(rng, 100, 400)}"
    if kind == 4:  # mapped-looking under the prefix
        return f"{PREFIX}/plant/line1/{_word(rng)}/power"
    return f"{PREFIX}/{_word(rng)}/{_word(rng)}"


BAD_JSON = (
    b"",
    b"{",
    b"[",
    b"]",
    b"{}",
    b"[]",
    b"null",
    b"true",
    b'"21.5"',
    b"{value: 1}",
    b'{"value": 1,}',
    b'{"value": 1 "ts": 2}',
    b'{"value": 01}',
    b'{"value": .5}',
    b'{"value": 1e}',
    b'{"value": "1"',
    b"\xef\xbb\xbf21.5",
    b'{"value": "\xff\xfe"}',
    b"[" * 2000 + b"]" * 2000,
    b"21.5 22.5",
    b"<xml/>",
)


def _bad_json(rng: random.Random) -> bytes:
    kind = rng.randrange(3)
    if kind == 0:
        return rng.choice(BAD_JSON)
    good = orjson.dumps(_reading(rng, "fan-1.power", batch=True))
    if kind == 1:  # cut short
        return good[: rng.randrange(0, len(good))]
    raw = bytearray(good)  # flipped bytes
    for _ in range(rng.randint(1, 3)):
        raw[rng.randrange(len(raw))] = rng.randrange(256)
    return bytes(raw)


def _wrong_type(rng: random.Random) -> bytes:
    junk = rng.choice(
        [None, True, False, "", "21.5", "abc", [], [1], {}, {"v": 1}, -0.0, "1e3", "0x10"]
    )
    field = rng.choice(["value", "ts", "unit", "quality", "point", "extra", _word(rng)])
    obj: dict[str, Any] = {"value": 21.5, "ts": TS_2024}
    obj[field] = junk
    if rng.random() < 0.2:
        return orjson.dumps([obj, junk])  # a list with a non-object in it
    if rng.random() < 0.1:
        return orjson.dumps(obj | {"point": "not-this-one"})  # point differs from the topic
    if rng.random() < 0.1:
        return orjson.dumps({"value": 1, "ts": "2024-05-01T08:00:00"})  # naive time
    if rng.random() < 0.1:
        return orjson.dumps({"value": 1, "ts": 1_714_521_600_000})  # milliseconds
    return orjson.dumps(obj)


def _huge_number(rng: random.Random) -> bytes:
    number = rng.choice(
        [
            "1e308",
            "-1e308",
            "1e309",
            "-1e400",
            "1.7976931348623157e308",
            "4.9e-324",
            "123456789012345678901234567890",
            "-9223372036854775809",
            "18446744073709551616",
            "9" * 400,
            "1" + "0" * 5000,
            "0." + "0" * 3000 + "1",
        ]
    )
    field = rng.choice(["value", "value", "ts"])
    other = "value" if field == "ts" else "ts"
    return f'{{"{field}": {number}, "{other}": {TS_2024 + 60}}}'.encode()


def _nan(rng: random.Random) -> bytes:
    token = rng.choice(["NaN", "nan", "Infinity", "-Infinity", "inf", "-inf", "1e999"])
    form = rng.randrange(3)
    if form == 0:
        return token.encode()  # bare token: not JSON
    if form == 1:
        return f'{{"value": {token}}}'.encode()  # not JSON either
    return orjson.dumps({"value": token, "ts": TS_2024})  # a string: wrong type


def _bad_unit(rng: random.Random) -> bytes:
    kind = rng.randrange(4)
    if kind == 0:  # garbage
        unit = _word(rng, 1, 40)
    elif kind == 1:  # wrong dimension
        unit = rng.choice(["kg", "s", "m", "degC", "K", "mol", "kWh", "%", "ppm", "t/h"])
    elif kind == 2:  # a pint expression that does not parse
        unit = rng.choice(["kW**", "**kW", "kW/(", "1/0", "kW^^2", "() kW", "kW * * W", "e1"])
    else:  # a valid unit, spelled a new way every time (every message a distinct text)
        k = rng.randrange(1, 1_000_000_000)
        unit = f"W*m**{k}/m**{k}"
    return orjson.dumps({"value": rng.uniform(0, 900), "ts": TS_2024 + 120, "unit": unit})


def fuzzed(rng: random.Random, max_payload: int) -> tuple[str, bytes, int]:
    """One message: (topic, payload, QoS). About a third of them are valid readings."""
    qos = 0 if rng.random() < 0.1 else 1
    roll = rng.random()
    if roll < 0.001:  # over the payload limit (rejected unread)
        size = rng.randint(max_payload + 1, 2 * max_payload)
        point = rng.choice(list(POINTS))
        return f"{PREFIX}/{SITE}/{point}", b"[" + b"1," * (size // 2) + b"1]", qos
    if roll < 0.002:  # a thousand valid readings (or, if too many, one reading too many)
        point = rng.choice(list(POINTS))
        n = 1000 if rng.random() < 0.8 else 10_001
        return (
            f"{PREFIX}/{SITE}/{point}",
            orjson.dumps([_reading(rng, point) for _ in range(n)]),
            qos,
        )
    kind = rng.randrange(20)
    if kind < 6:  # valid, on a point topic
        point = rng.choice(list(POINTS))
        return f"{PREFIX}/{SITE}/{point}", _valid_payload(rng, point), qos
    if kind < 8:  # valid, on a mapped topic
        topic = rng.choice(list(MAPPED))
        return topic, _valid_payload(rng, "m.power"), qos
    if kind < 10:  # valid, a batch on the site topic
        points = rng.choices(list(POINTS), k=rng.randint(1, 6))
        return f"{PREFIX}/{SITE}", orjson.dumps([_reading(rng, p, batch=True) for p in points]), qos
    payload = _valid_payload(rng, "fan-1.power")
    if kind < 12:  # valid payload, unknown point (a new topic almost every time)
        return f"{PREFIX}/{SITE}/{_word(rng)}", payload, qos
    if kind < 13:  # valid payload, unknown site
        if rng.random() < 0.5:
            return f"{PREFIX}/{_word(rng)}", payload, qos
        return f"{PREFIX}/{_word(rng)}/{rng.choice(list(POINTS))}", payload, qos
    if kind < 14:
        return _random_topic(rng), payload, qos
    point_topic = f"{PREFIX}/{SITE}/{rng.choice(list(POINTS))}"
    if kind < 15:
        return point_topic, _bad_json(rng), qos
    if kind < 16:
        return point_topic, _wrong_type(rng), qos
    if kind < 17:
        return point_topic, _huge_number(rng), qos
    if kind < 18:
        return point_topic, _nan(rng), qos
    if kind < 19:
        return rng.choice([point_topic, *MAPPED]), _bad_unit(rng), qos
    return point_topic, rng.randbytes(rng.randint(1, 300)), qos  # random bytes


# -- raw MQTT 3.1.1 -------------------------------------------------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _str(text: str) -> bytes:
    data = text.encode()
    return len(data).to_bytes(2, "big") + data


def _connect(port: int, client_id: str) -> socket.socket:
    """A clean-session MQTT 3.1.1 connection, keep-alive off."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    body = b"\x00\x04MQTT\x04\x02\x00\x00" + _str(client_id)
    sock.sendall(b"\x10" + _varint(len(body)) + body)
    if sock.recv(4)[:2] != b"\x20\x02":
        raise SystemExit(f"broker refused {client_id}")
    return sock


def _publish(topic: str, payload: bytes, qos: int, mid: int) -> bytes:
    if qos:
        body = _str(topic) + mid.to_bytes(2, "big") + payload
        return b"\x32" + _varint(len(body)) + body
    body = _str(topic) + payload
    return b"\x30" + _varint(len(body)) + body


def _mark(stream: int, block: int) -> bytes:
    """A marker: rejected (unknown site), so the gateway publishes a notice naming it."""
    return _publish(f"{PREFIX}/soak-mark/{stream}-{block}", b"1", 1, 65535)


class Notices:
    """Reads the gateway's notices on ``<prefix>/_rejected`` and keeps, per stream, the
    highest marker seen (in a shared array the publisher processes read)."""

    def __init__(self, port: int, streams: int) -> None:
        self.seen = mp.Array("q", [-1] * streams, lock=False)
        self.bytes = 0
        self._sock = _connect(port, f"soak-notices-{os.getpid()}")
        body = b"\x00\x01" + _str(f"{PREFIX}/_rejected") + b"\x00"
        self._sock.sendall(b"\x82" + _varint(len(body)) + body)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        tail = b""
        seen = self.seen
        with contextlib.suppress(OSError):
            while chunk := self._sock.recv(1 << 18):
                self.bytes += len(chunk)
                data = tail + chunk
                for match in MARK.finditer(data):
                    stream, block = int(match[1]), int(match[2])
                    if block > seen[stream]:
                        seen[stream] = block
                tail = data[-40:]

    def wait(self, stream: int, block: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.seen[stream] < block:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.sendall(b"\xe0\x00")
        self._sock.close()


def publisher(
    port: int,
    stream: int,
    seed: int,
    count: int,
    a: argparse.Namespace,
    seen: Any,
    out: Any,
) -> None:
    """Publish ``count`` fuzzed messages, a marker after every block, at most
    ``a.window`` blocks ahead of the markers the gateway has handled."""
    rng = random.Random(seed)
    sock = _connect(port, f"soak-pub-{stream}-{os.getpid()}")

    def drain() -> None:  # PUBACKs
        with contextlib.suppress(OSError):
            while sock.recv(65536):
                pass

    threading.Thread(target=drain, daemon=True).start()
    stats = {"qos1": 0, "qos0": 0, "bytes": 0, "stalls": 0}
    mid = 0
    blocks = (count + a.block - 1) // a.block
    for block in range(blocks):
        packets = []
        for _ in range(min(a.block, count - block * a.block)):
            topic, payload, qos = fuzzed(rng, a.max_payload)
            mid = mid % 65534 + 1
            packets.append(_publish(topic, payload, qos, mid))
            stats["qos1" if qos else "qos0"] += 1
        packets.append(_mark(stream, block))
        data = b"".join(packets)
        stats["bytes"] += len(data)
        deadline = time.monotonic() + 60
        while block - seen[stream] > a.window:  # wait for the gateway
            if time.monotonic() > deadline:
                stats["stalls"] += 1
                break
            time.sleep(0.002)
        sock.sendall(data)
    sock.sendall(b"\xe0\x00")  # DISCONNECT
    time.sleep(0.2)
    sock.close()
    out.put(stats)


def send(
    port: int, notices: Notices, phase: int, count: int, a: argparse.Namespace
) -> dict[str, int]:
    """One phase: ``count`` messages over ``a.publishers`` processes; returns when the
    gateway has handled the last marker of every publisher."""
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    share = [count // a.publishers + (i < count % a.publishers) for i in range(a.publishers)]
    procs = []
    for i, n in enumerate(share):
        stream = phase * a.publishers + i
        seed = a.seed * 1000 + stream
        procs.append(
            ctx.Process(target=publisher, args=(port, stream, seed, n, a, notices.seen, out))
        )
    for p in procs:
        p.start()
    total: dict[str, int] = {}
    for _ in procs:
        for key, value in out.get().items():
            total[key] = total.get(key, 0) + value
    for p in procs:
        p.join()
    lost = 0
    for i, n in enumerate(share):
        last = (n + a.block - 1) // a.block - 1
        if not notices.wait(phase * a.publishers + i, last, 300):
            lost += 1
    total["unfinished_publishers"] = lost
    return total


# -- the run ----------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_broker(tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(mosquitto).exists():
        raise SystemExit("no mosquitto (apt-get install mosquitto)")
    port = free_port()
    conf = tmp / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        # room for every publisher's window (QoS 0 included), so nothing is dropped
        "max_queued_messages 200000\n"
    )
    log = open(tmp / "mosquitto.log", "wb")  # noqa: SIM115 - lives as long as the broker
    broker = subprocess.Popen([mosquitto, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return broker, port
        except OSError:
            if broker.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("mosquitto did not start") from None
            time.sleep(0.1)


def gateway_counters(log: str) -> dict[str, int]:
    """The counters of the gateway's last status line (printed when it stops)."""
    flat = re.sub(r"\s+", " ", log)
    out = {}
    for key, label in (
        ("gateway_messages", "messages"),
        ("gateway_readings", "readings"),
        ("gateway_rejected", "rejected"),
        ("gateway_errors", "errors"),
    ):
        found = re.findall(rf"{label} (\d+)", flat)
        out[key] = int(found[-1]) if found else -1
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--warmup", type=int, default=100_000)
    parser.add_argument("--publishers", type=int, default=2, help="publisher processes")
    parser.add_argument("--block", type=int, default=500, help="messages between markers")
    parser.add_argument("--window", type=int, default=16, help="blocks ahead of the gateway")
    parser.add_argument(
        "--max-payload",
        type=int,
        default=65_536,
        help="TANSUAN_MQTT_MAX_PAYLOAD_BYTES of the gateway (bytes)",
    )
    parser.add_argument(
        "--idle", type=float, default=10.0, help="quiet seconds before the last RSS"
    )
    parser.add_argument("--seed", type=int, default=17)
    a = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tansuan-soak-mqtt-") as tmp_name:
        tmp = Path(tmp_name)
        broker, port = start_broker(tmp)
        model = tmp / "site.yaml"
        model.write_text(MODEL)
        env = {
            **os.environ,
            "TANSUAN_DATA_DIR": str(tmp / "var"),
            "TANSUAN_DATABASE_URL": f"sqlite:///{tmp}/store.db",
            "TANSUAN_MQTT_URL": f"mqtt://127.0.0.1:{port}",
            "TANSUAN_MQTT_CLIENT_ID": "soak-gateway",
            "TANSUAN_MQTT_TOPIC_PREFIX": PREFIX,
            "TANSUAN_MQTT_MAX_PAYLOAD_BYTES": str(a.max_payload),
        }
        gateway: subprocess.Popen[bytes] | None = None
        notices: Notices | None = None
        log_path = tmp / "gateway.log"
        log = open(log_path, "wb")  # noqa: SIM115 - closed below
        try:
            subprocess.run(
                [sys.executable, "-m", "tansuan.cli", "site", "load", str(model)],
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            gateway = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tansuan.cli",
                    "gateway",
                    "mqtt",
                    "--site-model",
                    str(model),
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            streams = 3 * a.publishers  # phase 0: the start probe, 1: warm-up, 2: the rest
            notices = Notices(port, streams)
            probe = _connect(port, "soak-probe")
            deadline = time.monotonic() + 60
            k = 0
            while not notices.wait(0, 0, 0.5):  # subscribed and answering?
                if gateway.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"gateway did not start: {log_path.read_text()[-2000:]}")
                probe.sendall(_mark(0, k))
                k = 1  # later probes count as well
            probe.close()
            time.sleep(1)
            before = rss_mb(gateway.pid)
            start = time.monotonic()
            warm_stats = send(port, notices, 1, a.warmup, a)
            warm = rss_mb(gateway.pid)
            rest_stats = send(port, notices, 2, a.messages - a.warmup, a)
            elapsed = time.monotonic() - start
            end = rss_mb(gateway.pid)
            time.sleep(a.idle)
            idle = rss_mb(gateway.pid)
            alive = gateway.poll() is None
            notice_mb = notices.bytes / 1e6
        finally:
            if notices is not None:
                notices.close()
            if gateway is not None:
                gateway.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    gateway.wait(timeout=30)
            broker.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                broker.wait(timeout=10)
            log.close()
        text = log_path.read_text(errors="replace")
        tracebacks = text.count("Traceback")
        counters = gateway_counters(text)
        log_mb = log_path.stat().st_size / 1e6
    stats = {k: warm_stats.get(k, 0) + rest_stats.get(k, 0) for k in warm_stats}
    print(
        json.dumps(
            {
                "bench": "soak_mqtt",
                "messages": a.messages,
                "warmup_messages": a.warmup,
                "seconds": round(elapsed, 1),
                "messages_per_s": round(a.messages / elapsed),
                "sent_qos1": stats["qos1"],
                "sent_qos0": stats["qos0"],
                "sent_mb": round(stats["bytes"] / 1e6, 1),
                "publisher_stalls": stats["stalls"],
                "unfinished_publishers": stats["unfinished_publishers"],
                **counters,
                "notices_mb": round(notice_mb, 1),
                "gateway_log_mb": round(log_mb, 1),
                "rss_mb_before": round(before, 1),
                "rss_mb_after_warmup": round(warm, 1),
                "rss_mb_end": round(end, 1),
                "rss_mb_after_idle": round(idle, 1),
                "growth_after_warmup_mb": round(end - warm, 1),
                "gateway_alive": alive,
                "tracebacks_logged": tracebacks,
                "load_avg": os.getloadavg()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
