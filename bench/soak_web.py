"""Soak of the web server under hostile logins and fuzzed API requests: is its memory bounded?

Starts the real server (``tansuan serve``, web only, its own process) on a fresh data
dir with ``TANSUAN_TRUSTED_PROXIES=["127.0.0.1"]``, then sends ``--logins`` bogus logins
(a fresh username each, from ``--addresses`` client addresses named in X-Forwarded-For
through the trusted proxy) interleaved with fuzzed API requests (ids beyond 64 bits,
negative, unicode; a bearer token of an organisation admin), ``--threads`` at a time.
Reads the server's RSS (/proc/<pid>/status VmRSS) after start, after the warm-up (the
first ``--warmup`` logins) and at the end. Prints one JSON line:

    .venv/bin/python bench/soak_web.py [--logins 100000] [--warmup 10000]

Figures: ``rss_start_mb``, ``rss_warm_mb``, ``rss_end_mb``, ``growth_after_warmup_mb``
(target < 20), ``logins_per_s``, answer counts by status, and the baseline: a bare
``GET /login`` loop of the same length's rate (``baseline_requests_per_s``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FUZZ_PATHS = (
    "/api/v1/grants/18446744073709551621",
    "/api/v1/results/18446744073709551621/trace",
    "/api/v1/ledger/proof/inclusion?leaf=18446744073709551621",
    "/api/v1/grants/-1/reads",
    "/api/v1/sites/%F0%9F%99%82/quality",
    "/api/v1/emissions?node=demo&period=9999999999",
    "/api/v1/tokens?offset=99999999999999999999999",
    "/api/v1/workbench/findings/0",
)


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS"))
    return int(line.split()[1]) / 1024


def prepare(folder: Path) -> str:
    """A store with one admin user; returns that user's API token."""
    from tansuan.settings import Settings
    from tansuan.store import Store, users

    settings = Settings(data_dir=folder, demo=True)
    store = Store(settings.effective_database_url, settings=settings)
    with store.write() as conn:
        user_id = users.add_user(conn, org="soak-org", username="soak-admin",
                                 password="soak-password-1234", role="admin")  # fmt: skip
        _id, token = users.create_token(conn, int(user_id), "soak", ["read", "admin"])
    store.close()
    return str(token)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--logins", type=int, default=100_000)
    parser.add_argument("--warmup", type=int, default=10_000)
    parser.add_argument("--addresses", type=int, default=20)
    parser.add_argument("--fuzz-every", type=int, default=10, help="one API request per N logins")
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="tansuan-soak-web-"))
    token = prepare(folder)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "TANSUAN_DATA_DIR": str(folder), "TANSUAN_SERVE_SERVICES": "",
           "TANSUAN_TRUSTED_PROXIES": '["127.0.0.1"]', "TANSUAN_DEMO": "true"}  # fmt: skip
    env.pop("TANSUAN_DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "tansuan.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    counts: Counter[str] = Counter()
    try:
        with httpx.Client(base_url=base, timeout=60) as http:
            deadline = time.monotonic() + 90
            while True:
                try:
                    http.get("/login")
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise
                    time.sleep(0.2)
        rss_start = rss_mb(server.pid)

        def worker(lo: int, hi: int) -> Counter[str]:
            seen: Counter[str] = Counter()
            with httpx.Client(base_url=base, timeout=60) as http:
                page = http.get("/login").text
                found = re.search(r'name="csrf" value="([^"]+)"', page)
                csrf = found.group(1) if found else ""
                auth = {"Authorization": f"Bearer {token}"}
                for n in range(lo, hi):
                    xff = f"198.51.{(n % args.addresses) // 250}.{(n % args.addresses) % 250 + 1}"
                    form = {"username": f"fresh-{n}-{os.urandom(4).hex()}", "password": "x",
                            "csrf": csrf}  # fmt: skip
                    answer = http.post("/login", data=form, headers={"X-Forwarded-For": xff})
                    seen[f"login_{answer.status_code}"] += 1
                    if n % args.fuzz_every == 0:
                        path = FUZZ_PATHS[(n // args.fuzz_every) % len(FUZZ_PATHS)]
                        seen[f"api_{http.get(path, headers=auth).status_code}"] += 1
            return seen

        def phase(lo: int, hi: int) -> float:
            step = (hi - lo + args.threads - 1) // args.threads
            started = time.perf_counter()
            with ThreadPoolExecutor(args.threads) as pool:
                parts = [pool.submit(worker, a, min(a + step, hi)) for a in range(lo, hi, step)]
                for part in parts:
                    counts.update(part.result())
            return time.perf_counter() - started

        phase(0, args.warmup)
        rss_warm = rss_mb(server.pid)
        seconds = phase(args.warmup, args.logins)
        rss_end = rss_mb(server.pid)

        def bare(lo: int, hi: int) -> int:
            with httpx.Client(base_url=base, timeout=60) as http:
                for _ in range(lo, hi):
                    http.get("/login")
            return hi - lo

        started = time.perf_counter()
        sample = min(5_000, args.logins)
        with ThreadPoolExecutor(args.threads) as pool:
            step = sample // args.threads
            list(pool.map(lambda a: bare(a, a + step), range(0, step * args.threads, step)))
        baseline = (step * args.threads) / (time.perf_counter() - started)
    finally:
        server.terminate()
        server.wait(30)
    print(json.dumps({
        "logins": args.logins, "warmup": args.warmup, "addresses": args.addresses,
        "threads": args.threads, "rss_start_mb": round(rss_start, 1),
        "rss_warm_mb": round(rss_warm, 1), "rss_end_mb": round(rss_end, 1),
        "growth_after_warmup_mb": round(rss_end - rss_warm, 1),
        "logins_per_s": round((args.logins - args.warmup) / seconds, 1),
        "baseline_requests_per_s": round(baseline, 1), "answers": dict(sorted(counts.items())),
        "load_1min": os.getloadavg()[0],
    }))  # fmt: skip


if __name__ == "__main__":
    main()
