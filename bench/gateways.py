"""Gateway throughput, end to end, beside the bare store rate in the same run.

One function per protocol; ``main`` prints one JSON line with every figure::

    .venv/bin/python bench/gateways.py [--clients 200,400] [--packets 10000] [--rounds 5]

HJ 212: N logger clients (in a second process, over real TCP sockets) each upload
minute data (CN 2051, 10 pollutant values, Flag=5 asking for an answer) and wait for
the 9014 answer before the next packet (stop-and-wait, as loggers do). The gateway
commits every reading into a real SQLite table (WAL, synchronous=FULL) before answering.
The baseline inserts the same rows into the same table with the same commit sizes.
``hj212_null_sink`` repeats the first client count with a sink that discards, to show
the gateway's own cost; ``*_cpu_us_per_packet`` is CPU time per packet of the server
process (event loop and sink thread) and of the client process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import multiprocessing as mp
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tansuan.gateways.hj212.client import Hj212Client
from tansuan.gateways.hj212.mapping import Directory
from tansuan.gateways.hj212.server import Hj212Server, Limits
from tansuan.ingest.reading import Reading
from tansuan.site.model import SiteModel

HJ212_CODES = [f"a{n:05d}" for n in (5001, 0, 1012, 1013, 1014, 19001, 21002, 21005, 21026, 34013)]
PW = "123456"
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS readings (site TEXT, point TEXT, ts TEXT, value REAL,"
    " quality TEXT, PRIMARY KEY (site, point, ts)) WITHOUT ROWID"
)


class SqliteSink:
    """The bench's sink: one real SQLite table, durable commit per call."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute(SCHEMA)
        self.lock = threading.Lock()
        self.batch_sizes: list[int] = []
        self.rows: list[tuple[str, str, str, float, str]] = []

    def __call__(self, readings: Sequence[Reading]) -> None:
        rows = [(r.site, r.point, r.ts.isoformat(), r.value, r.quality) for r in readings]
        with self.lock:
            self.db.execute("BEGIN")
            self.db.executemany("INSERT OR IGNORE INTO readings VALUES (?,?,?,?,?)", rows)
            self.db.execute("COMMIT")
            self.batch_sizes.append(len(rows))
            self.rows.extend(rows)


class NullSink(SqliteSink):
    """Discards readings: isolates the gateway's own cost from the store's."""

    def __call__(self, readings: Sequence[Reading]) -> None:
        self.batch_sizes.append(len(readings))


def _mn(i: int) -> str:
    return f"8888888{i:07d}"


def _hj212_model(n: int) -> SiteModel:
    devices = [
        {
            "id": f"stack-{i}",
            "class": "stack",
            "points": [
                {
                    "id": f"s{i}.{code}",
                    "quantity": "q",
                    "unit": "mg/m3",
                    "protocol": {"hj212": {"connection": f"l{i}", "code": code}},
                }
                for code in HJ212_CODES
            ],
        }
        for i in range(n)
    ]
    site = {
        "id": "plant",
        "connections": [
            {"id": f"l{i}", "protocol": "hj212", "mn": _mn(i), "password": PW} for i in range(n)
        ],
        "areas": [{"id": "a", "devices": devices}],
    }
    return SiteModel.model_validate(
        {"organisation": {"id": "o", "companies": [{"id": "c", "sites": [site]}]}}
    )


def _hj212_clients(port: int, n: int, packets: int, first_minute: int, out: Any) -> None:
    """Client process: n loggers × packets uploads; sends (seconds, answered, cpu s) back."""

    async def logger(i: int, start: asyncio.Event) -> int:
        client = Hj212Client("127.0.0.1", port, mn=_mn(i), pw=PW, timeout_s=30, retries=0)
        base = dt.datetime(2024, 1, 1) + dt.timedelta(minutes=first_minute)
        raws = [
            client.upload_packet(
                "2051",
                (base + dt.timedelta(minutes=k)).strftime("%Y%m%d%H%M%S"),
                {
                    code: {"Avg": f"{100 + k + j * 0.5:.3f}", "Flag": "N"}
                    for j, code in enumerate(HJ212_CODES)
                },
            )
            for k in range(packets)
        ]
        answered = 0
        async with client:
            await start.wait()
            for raw in raws:
                answer = await client.send(raw)
                answered += answer is not None and answer.cn == "9014"
        return answered

    async def run() -> tuple[float, int, float]:
        start = asyncio.Event()
        tasks = [asyncio.create_task(logger(i, start)) for i in range(n)]
        await asyncio.sleep(0.5)  # every client connected and its packets built
        begin, cpu = time.perf_counter(), time.process_time()
        start.set()
        answered = sum(await asyncio.gather(*tasks))
        return time.perf_counter() - begin, answered, time.process_time() - cpu

    out.send(asyncio.run(run()))


def _bare_insert(
    path: Path, rows: list[tuple[str, str, str, float, str]], sizes: list[int]
) -> float:
    """Seconds to insert ``rows`` into the same table, committing in ``sizes`` batches."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous=FULL")
    db.execute("DELETE FROM readings")
    begin = time.perf_counter()
    at = 0
    for size in sizes:
        db.execute("BEGIN")
        db.executemany("INSERT OR IGNORE INTO readings VALUES (?,?,?,?,?)", rows[at : at + size])
        db.execute("COMMIT")
        at += size
    seconds = time.perf_counter() - begin
    db.close()
    return seconds


async def _hj212_round(
    sink: SqliteSink, clients: int, packets: int
) -> tuple[float, int, float, float]:
    """Serve one round to a client process.

    Returns (seconds, answers, client CPU [s]) as the clients saw them, and the
    server process's CPU [s] (event loop and sink thread) over the same time.
    """
    server = Hj212Server(
        Directory.from_site_model(_hj212_model(clients)),
        sink,
        Limits(max_connections=clients + 10, max_connections_per_address=clients + 10),
    )
    await server.start("127.0.0.1", 0)
    context = mp.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(
        target=_hj212_clients, args=(server.port, clients, packets, 0, theirs)
    )
    process.start()
    cpu = time.process_time()
    while not ours.poll():
        if not process.is_alive() and not ours.poll():
            raise RuntimeError(f"client process died ({process.exitcode})")
        await asyncio.sleep(0.05)
    seconds, answered, client_cpu = ours.recv()
    server_cpu = time.process_time() - cpu  # includes ~0.5 s of client start-up idling
    process.join()
    await server.close()
    return seconds, answered, client_cpu, server_cpu


def _hj212_null(clients: int, total_packets: int, rounds: int) -> dict[str, Any]:
    """The gateway alone: same load, a sink that discards (no SQLite)."""
    packets = max(1, total_packets // clients)
    rates, server_us = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            sink = NullSink(Path(tmp) / "null.db")
            seconds, answered, _, server_cpu = asyncio.run(_hj212_round(sink, clients, packets))
            assert answered == clients * packets
            rates.append(answered / seconds)
            server_us.append(server_cpu / answered * 1e6)
    return {
        "clients": clients,
        "packets_per_s": round(statistics.median(rates)),
        "packets_per_s_runs": [round(r) for r in rates],
        "server_cpu_us_per_packet": round(statistics.median(server_us)),
    }


def _hj212_at(clients: int, total_packets: int, rounds: int) -> dict[str, Any]:
    """Median figures over ``rounds`` rounds with ``clients`` concurrent loggers."""
    packets = max(1, total_packets // clients)
    rates, bare_rates, batch_means, server_us, client_us = [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(rounds):
            path = Path(tmp) / f"hj212-{round_}.db"
            sink = SqliteSink(path)
            seconds, answered, client_cpu, server_cpu = asyncio.run(
                _hj212_round(sink, clients, packets)
            )
            server_us.append(server_cpu / answered * 1e6)
            client_us.append(client_cpu / answered * 1e6)
            assert answered == clients * packets, (answered, clients * packets)
            assert len(sink.rows) == clients * packets * len(HJ212_CODES)
            sink.db.close()
            rates.append(answered / seconds)
            bare = _bare_insert(path, sink.rows, sink.batch_sizes)
            bare_rates.append(len(sink.rows) / bare)
            batch_means.append(statistics.mean(sink.batch_sizes))
    rate = statistics.median(rates)
    bare_rate = statistics.median(bare_rates)
    return {
        "clients": clients,
        "packets": clients * packets,
        "packets_per_s": round(rate),
        "packets_per_s_runs": [round(r) for r in rates],
        "readings_per_s": round(rate * len(HJ212_CODES)),
        "readings_per_commit": round(statistics.median(batch_means), 1),
        "bare_insert_readings_per_s": round(bare_rate),
        "gateway_over_bare": round(rate * len(HJ212_CODES) / bare_rate, 3),
        "server_cpu_us_per_packet": round(statistics.median(server_us)),
        "client_cpu_us_per_packet": round(statistics.median(client_us)),
    }


def bench_hj212(clients: Sequence[int], total_packets: int, rounds: int) -> dict[str, Any]:
    """HJ 212 packets/s end to end (committed, answered) beside the bare insert rate.

    The headline ``hj212_packets_per_s`` is the figure at the first client count.
    """
    runs = [_hj212_at(n, total_packets, rounds) for n in clients]
    return {
        "hj212_values_per_packet": len(HJ212_CODES),
        "hj212_target_packets_per_s": 5000,
        "hj212_packets_per_s": runs[0]["packets_per_s"],
        "hj212_gateway_over_bare": runs[0]["gateway_over_bare"],
        "hj212_by_clients": runs,
        "hj212_null_sink": _hj212_null(clients[0], total_packets, rounds),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--clients", default="200,400", help="concurrent HJ 212 loggers, comma-separated counts"
    )
    parser.add_argument("--packets", type=int, default=10000, help="uploads per round in all")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; medians are reported")
    args = parser.parse_args(argv)
    clients = [int(n) for n in args.clients.split(",")]
    figures: dict[str, Any] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    figures.update(bench_hj212(clients, args.packets, args.rounds))
    print(json.dumps(figures))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
