"""HJ 212 gateway soak: RSS of the real ``tansuan gateway hj212`` under fuzzed packets.

The gateway runs as its own process (``python -m tansuan.cli gateway hj212``) against a
fresh SQLite store in a temporary directory, loaded with ``examples/site.yaml``. Client
processes send ``--packets`` fuzzed packets (fixed seed) over many short connections
(``--per-connection`` packets each, ``--concurrency`` at once per client process):
valid uploads of the example logger, mutations of them (flipped and cut bytes, random
MNs, CNs, codes, DataTimes, QNs, split-message headers with random PNUM/PNO) and
garbage. The gateway's RSS (``VmRSS`` of ``/proc/<pid>/status``) is read before the
first packet; right after ``--warmup`` packets (busy: the commit backlog is full) and
again after ``--idle`` seconds of quiet ("after warm-up"); at the end (busy) and after
``--idle`` seconds of quiet ("after idle"); and the peak (``VmHWM``). The hostile load
saturates the gateway, so the busy figures include the bounded backlog
(``hj212_max_queued_readings`` queued plus one batch committing). Growth = after idle −
after warm-up, both quiet. Target: growth after warm-up < 20 MB (issue 17).

The baseline in the same run is the gateway's RSS right after start (the "before").

Usage::

    PYTHONPATH=src .venv/bin/python bench/soak_hj212.py [--packets 1000000] [--warmup 100000]

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tansuan.gateways.hj212 import codec

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "examples" / "site.yaml"
MN, PW = "88888880000001", "123456"  # the example site's logger
CODES = ("a05001", "a00000")


def _valid(rng: random.Random) -> bytes:
    minute = rng.randrange(0, 365 * 24 * 60)
    day, rest = divmod(minute, 24 * 60)
    when = time.gmtime(1_704_067_200 + day * 86400)  # 2024
    data_time = (
        f"{when.tm_year}{when.tm_mon:02d}{when.tm_mday:02d}{rest // 60:02d}{rest % 60:02d}00"
    )
    values = {code: {"Avg": f"{rng.uniform(0, 500):.2f}", "Flag": "N"} for code in CODES}
    return codec.build(
        cn="2051", cp=codec.format_cp(data_time, values), qn=str(rng.getrandbits(50)), pw=PW, mn=MN
    )


def _random_digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def fuzzed(rng: random.Random) -> bytes:
    """One packet: valid, or one of the mutations (weights roughly like the issue's probe)."""
    kind = rng.randrange(12)
    if kind <= 2:
        return _valid(rng)
    if kind == 3:  # random MN (unknown logger), random PW
        mn = "".join(rng.choice("0123456789ABCDEF") for _ in range(rng.randint(1, 24)))
        return codec.build(cn="2051", cp="DataTime=20240101000000", qn="1", pw=PW[::-1], mn=mn)
    if kind == 4:  # authenticated, random CN
        return codec.build(
            cn=_random_digits(rng, 4), cp="", qn=str(rng.getrandbits(40)), pw=PW, mn=MN
        )
    if kind == 5:  # authenticated, random codes
        values = {
            f"{rng.choice('abcwx')}{_random_digits(rng, 5)}": {"Avg": "1.5", "Flag": "N"}
            for _ in range(rng.randint(1, 8))
        }
        return codec.build(cn="2051", cp=codec.format_cp("20240101000000", values), pw=PW, mn=MN)
    if kind == 6:  # random DataTime (any year, any digits)
        cp = f"DataTime={_random_digits(rng, 14)};a05001-Avg=1.0,a05001-Flag=N"
        return codec.build(cn="2051", cp=cp, qn="1", pw=PW, mn=MN)
    if kind == 7:  # a part of a split message that never completes
        pnum = rng.randint(2, 9999)
        cp = "DataTime=20240101000000;a05001-Avg=1.0,a05001-Flag=N" + ";x" * rng.randint(0, 300)
        return codec.build(
            cn="2051",
            cp=cp[:900],
            qn=str(rng.getrandbits(50)),
            pw=PW,
            mn=MN,
            flag=codec.FLAG_2017 | codec.FLAG_ACK | 2,
            pnum=pnum,
            pno=rng.randint(1, pnum),
        )
    raw = bytearray(_valid(rng))
    if kind == 8:  # flipped bytes
        for _ in range(rng.randint(1, 4)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        return bytes(raw)
    if kind == 9:  # cut short, the next packet follows
        return bytes(raw[: rng.randrange(2, len(raw))])
    if kind == 10:  # a wrong length field
        return b"##" + f"{rng.randrange(10000):04d}".encode() + bytes(raw[6:])
    return bytes(rng.randrange(256) for _ in range(rng.randint(1, 200)))  # garbage


async def _connection(port: int, packets: list[bytes], stats: dict[str, int]) -> None:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        stats["connect_errors"] += 1
        return

    async def drain_answers() -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while chunk := await reader.read(65536):
                stats["answer_bytes"] += len(chunk)

    answers = asyncio.get_running_loop().create_task(drain_answers())
    try:
        for k in range(0, len(packets), 10):
            writer.write(b"".join(packets[k : k + 10]))
            await writer.drain()
        with contextlib.suppress(OSError):
            writer.write_eof()
        await asyncio.wait_for(answers, 5)
    except (OSError, TimeoutError):
        stats["io_errors"] += 1
    finally:
        answers.cancel()
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    stats["connections"] += 1


async def _client(
    port: int, seed: int, count: int, per_connection: int, concurrency: int
) -> dict[str, int]:
    rng = random.Random(seed)
    stats = {"connections": 0, "connect_errors": 0, "io_errors": 0, "answer_bytes": 0}
    left = count
    running: set[asyncio.Task[None]] = set()
    while left > 0 or running:
        while left > 0 and len(running) < concurrency:
            n = min(per_connection, left)
            left -= n
            packets = [fuzzed(rng) for _ in range(n)]
            running.add(asyncio.get_running_loop().create_task(_connection(port, packets, stats)))
        done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
    return stats


def client(args: tuple[int, int, int, int, int]) -> dict[str, int]:
    port, seed, count, per_connection, concurrency = args
    return asyncio.run(_client(port, seed, count, per_connection, concurrency))


def rss_mb(pid: int, field: str = "VmRSS:") -> float:
    """``VmRSS`` (or another ``/proc/<pid>/status`` field in kB) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def send(
    pool: mp.pool.Pool, port: int, seed: int, count: int, a: argparse.Namespace
) -> dict[str, int]:
    share = [count // a.clients + (i < count % a.clients) for i in range(a.clients)]
    jobs = [
        (port, seed * 1000 + i, n, a.per_connection, a.concurrency) for i, n in enumerate(share)
    ]
    total: dict[str, int] = {}
    for stats in pool.map(client, jobs):
        for key, value in stats.items():
            total[key] = total.get(key, 0) + value
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--packets", type=int, default=1_000_000)
    parser.add_argument("--warmup", type=int, default=100_000)
    parser.add_argument("--per-connection", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=40, help="connections per client")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument(
        "--idle", type=float, default=10.0, help="quiet seconds before the last RSS"
    )
    parser.add_argument("--seed", type=int, default=17)
    a = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tansuan-soak-") as tmp:
        port = free_port()
        env = {
            **os.environ,
            "TANSUAN_DATA_DIR": str(Path(tmp) / "var"),
            "TANSUAN_DATABASE_URL": f"sqlite:///{tmp}/store.db",
            "TANSUAN_HJ212_PORT": str(port),
        }
        subprocess.run(
            [sys.executable, "-m", "tansuan.cli", "site", "load", str(SITE)],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        log = open(Path(tmp) / "gateway.log", "wb")  # noqa: SIM115 - closed below
        gateway = subprocess.Popen(
            [sys.executable, "-m", "tansuan.cli", "gateway", "hj212", "--site-model", str(SITE)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                with (
                    contextlib.suppress(OSError),
                    socket.create_connection(("127.0.0.1", port), 0.2),
                ):
                    break
                if gateway.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(
                        f"gateway did not start: {(Path(tmp) / 'gateway.log').read_text()[-2000:]}"
                    )
                time.sleep(0.1)
            time.sleep(1)
            before = rss_mb(gateway.pid)
            with mp.Pool(a.clients) as pool:
                start = time.monotonic()
                warm_stats = send(pool, port, a.seed, a.warmup, a)
                warm_busy = rss_mb(gateway.pid)
                time.sleep(a.idle)  # the backlog drains: RSS of the warm, quiet gateway
                warm = rss_mb(gateway.pid)
                rest_stats = send(pool, port, a.seed + 1, a.packets - a.warmup, a)
                elapsed = time.monotonic() - start
            end = rss_mb(gateway.pid)
            time.sleep(a.idle)
            idle = rss_mb(gateway.pid)
            peak = rss_mb(gateway.pid, "VmHWM:")
            alive = gateway.poll() is None
        finally:
            gateway.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                gateway.wait(timeout=20)
            log.close()
        tracebacks = (Path(tmp) / "gateway.log").read_text(errors="replace").count("Traceback")
    stats = {k: warm_stats.get(k, 0) + rest_stats.get(k, 0) for k in warm_stats}
    print(
        json.dumps(
            {
                "bench": "soak_hj212",
                "packets": a.packets,
                "warmup_packets": a.warmup,
                "seconds": round(elapsed, 1),
                "packets_per_s": round(a.packets / elapsed),
                **stats,
                "rss_mb_before": round(before, 1),
                "rss_mb_warmup_busy": round(warm_busy, 1),
                "rss_mb_after_warmup": round(warm, 1),
                "rss_mb_end_busy": round(end, 1),
                "rss_mb_after_idle": round(idle, 1),
                "rss_mb_peak": round(peak, 1),
                "growth_after_warmup_mb": round(idle - warm, 1),
                "gateway_alive": alive,
                "tracebacks_logged": tracebacks,
                "load_avg": os.getloadavg()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
