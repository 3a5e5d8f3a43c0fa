"""MQTT gateway throughput, end to end, beside the bare insert rate of the same readings.

publisher process --QoS 1--> Mosquitto --QoS 1--> MqttGateway --> sink (executemany into
a real SQLite table, synchronous=FULL, WAL, commit per batch) --> PUBACK after commit.

The rate is messages whose readings were committed and acked, per second of wall time
from the first publish to the last commit. The baseline inserts the same readings, in
the same batch sizes the gateway used, into a fresh table of the same schema.

Usage::

    TANSUAN_TEST_MQTT_URL=mqtt://127.0.0.1:51884 .venv/bin/python bench/gateway_mqtt.py \
        [--messages 100000] [--per-message 1] [--repeat 3]

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import socket
import sqlite3
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import orjson

from tansuan.gateways.mqtt import BrokerAddress, MqttGateway
from tansuan.ingest.reading import Reading

SCHEMA = (
    "CREATE TABLE readings (point TEXT NOT NULL, ts TEXT NOT NULL, value REAL NOT NULL, "
    "unit TEXT, quality TEXT NOT NULL, PRIMARY KEY (point, ts)) WITHOUT ROWID"
)
INSERT = "INSERT OR IGNORE INTO readings VALUES (?, ?, ?, ?, ?)"
BASE_TS = 1_714_521_600  # 2024-05-01T00:00:00Z


def open_db(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute(SCHEMA)
    db.commit()
    return db


def rows(readings: Sequence[Reading]) -> list[tuple[str, str, float, str | None, str]]:
    return [(r.point, r.ts.isoformat(), r.value, r.unit, r.quality) for r in readings]


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


def publish(
    url: str, prefix: str, n_messages: int, per_message: int, committed: mp.Value, window: int
) -> None:
    """Publisher process standing in for a fleet of devices: raw MQTT 3.1.1 QoS 1 PUBLISH
    packets written to the socket in chunks (paho's own publish path tops out at ~13k
    messages/s here, below what the gateway takes). It stays at most ``window`` messages
    ahead of the committed count, because Mosquitto drops QoS 1 messages beyond its
    max_queued_messages for a subscriber that is behind."""
    address = BrokerAddress.parse(url)
    sock = socket.create_connection((address.host, address.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    body = b"\x00\x04MQTT\x04\x02\x00\x3c" + _str(f"bench-pub-{uuid.uuid4().hex[:8]}")
    sock.sendall(b"\x10" + _varint(len(body)) + body)
    if sock.recv(4)[:2] != b"\x20\x02":
        raise SystemExit("broker refused the publisher")

    def drain() -> None:  # PUBACKs
        while sock.recv(65536):
            pass

    threading.Thread(target=drain, daemon=True).start()
    n_points = 100
    chunk: list[bytes] = []
    for i in range(n_messages):
        if per_message == 1:
            topic = f"{prefix}/bench/p{i % n_points}"
            payload = orjson.dumps({"value": i * 0.5, "ts": BASE_TS + i // n_points})
        else:
            topic = f"{prefix}/bench"
            payload = orjson.dumps(
                [
                    {"point": f"p{k}", "value": i * 0.5, "ts": BASE_TS + i}
                    for k in range(per_message)
                ]
            )
        mid = i % 65535 + 1
        body = _str(topic) + mid.to_bytes(2, "big") + payload
        chunk.append(b"\x32" + _varint(len(body)) + body)
        if len(chunk) == 200:
            while i - committed.value > window:
                time.sleep(0.001)
            sock.sendall(b"".join(chunk))
            chunk.clear()
    sock.sendall(b"".join(chunk) + b"\xe0\x00")  # ... and DISCONNECT
    time.sleep(0.2)
    sock.close()


def run_once(url: str, n_messages: int, per_message: int) -> dict[str, float]:
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "gateway.db")
        committed = mp.Value("q", 0, lock=False)
        batches: list[int] = []
        done = threading.Event()
        total = n_messages * per_message

        def sink(readings: Sequence[Reading]) -> None:
            db.executemany(INSERT, rows(readings))
            db.commit()
            batches.append(len(readings))
            committed.value += len(readings) // per_message
            if committed.value >= n_messages:
                done.set()

        gateway = MqttGateway(
            sink,
            url=url,
            client_id=f"bench-gw-{prefix}",
            prefix=prefix,
            session_expiry_s=60,
            receive_maximum=20_000,
        )
        gateway.start()
        if not gateway.connected.wait(10):
            raise SystemExit("cannot reach the broker")
        time.sleep(0.3)  # let the SUBACK arrive
        publisher = mp.get_context("spawn").Process(
            target=publish, args=(url, prefix, n_messages, per_message, committed, 15_000)
        )
        t0 = time.perf_counter()
        publisher.start()
        if not done.wait(600):
            raise SystemExit(f"only {committed.value} of {n_messages} messages arrived")
        gateway_s = time.perf_counter() - t0
        publisher.join()
        gateway.stop()
        stored = db.execute("SELECT count(*) FROM readings").fetchone()[0]
        db.close()
        if stored != total:
            raise SystemExit(f"stored {stored} readings, expected {total}")

        # Bare baseline: the same readings, in the same batch sizes, same table and pragmas.
        readings = [
            Reading("bench", f"p{i % 100}", _ts(BASE_TS + i // 100), i * 0.5) for i in range(total)
        ]
        bare_db = open_db(Path(tmp) / "bare.db")
        t0 = time.perf_counter()
        start = 0
        for size in batches:
            bare_db.executemany(INSERT, rows(readings[start : start + size]))
            bare_db.commit()
            start += size
        bare_s = time.perf_counter() - t0
        bare_db.close()
    return {
        "gateway_messages_per_s": n_messages / gateway_s,
        "gateway_readings_per_s": total / gateway_s,
        "bare_readings_per_s": total / bare_s,
        "sink_calls": len(batches),
        "median_batch": statistics.median(batches),
    }


def _ts(seconds: int):  # type: ignore[no-untyped-def]
    import datetime as dt

    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--per-message", type=int, default=1, help="readings per message")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    url = os.environ.get("TANSUAN_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
    runs = [run_once(url, args.messages, args.per_message) for _ in range(args.repeat)]
    result: dict[str, object] = {
        "bench": "gateway_mqtt",
        "messages": args.messages,
        "readings_per_message": args.per_message,
        "repeat": args.repeat,
    }
    for key in runs[0]:
        result[key] = round(statistics.median(run[key] for run in runs), 1)
    result["ratio_gateway_to_bare"] = round(
        float(result["gateway_readings_per_s"]) / float(result["bare_readings_per_s"]), 3
    )
    result["runs_messages_per_s"] = [round(r["gateway_messages_per_s"]) for r in runs]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
