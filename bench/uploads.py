"""A large manual-data import vs another organisation's ingest (issue 17, Must-deliver 3).

Prints ONE JSON line. A real server (uvicorn, a subprocess, SQLite under a temporary
folder, the two-tenant demo deployment with a ledger) receives a ``--mb`` MB manual-data
CSV from demo-group (alice); it is imported as a background job. Meanwhile other-group
(bob) posts one reading at a time (``POST /api/v1/readings``) every 0.2 s until the job
is done. Baseline: the same single-reading POSTs before the upload, in the same run.
Figures: upload → 202 time, the job's duration and rows/s, bob's latency p50/p99/max
during the import against the baseline, the server's RSS before, peak (VmHWM) and after.

    .venv/bin/python bench/uploads.py [--mb 100] [--baseline 50]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

HEADER = "site,series,period_start,period_end,value,unit,document_ref,supplier,note\n"


def serve(folder: Path, port: int) -> None:
    """The server process: build the demo deployment, write the tokens, run uvicorn."""
    import uvicorn
    from tests.web.demo import build

    from tansuan.ledger import Ledger
    from tansuan.settings import get_settings
    from tansuan.store import Store, users
    from tansuan.web.app import create_app

    settings = get_settings()
    store = Store(settings.effective_database_url, settings=settings)
    build(store, dt.datetime.now(dt.UTC))
    tokens = {}
    with store.write() as connection:
        for name in ("alice", "bob"):
            user_id = users.user_id_by_name(connection, name)
            tokens[name] = users.create_token(connection, user_id, name, ["ingest", "read"])[1]
    app = create_app(settings, store=store, ledger=Ledger.from_data_dir(folder))
    (folder / "tokens.json").write_text(json.dumps(tokens))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def rss_kib(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def write_csv(path: Path, megabytes: float) -> int:
    """A manual-data CSV of distinct fuel invoices of demo-site; returns its rows."""
    target = int(megabytes * 1_000_000)
    rows = size = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        while size < target:
            line = f"demo-site,oil-invoices,2026-01-01,2026-01-31,1.5,t,INV-{rows},Sinopec,\n"
            out.write(line)
            size += len(line)
            rows += 1
    return rows


def post_reading(bob: httpx.Client, i: int, base_ts: int) -> float:
    started = time.perf_counter()
    got = bob.post(
        "/api/v1/readings",
        json={"site": "other-site", "point": ["other.energy"], "ts": [base_ts + 60 * i],
              "value": [10_000.0 + i]},
    )  # fmt: skip
    took = time.perf_counter() - started
    if got.status_code != 200 or got.json()["accepted"] != 1:
        raise SystemExit(f"reading {i} not stored: {got.status_code} {got.text}")
    return took


def figures(waits: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(waits, n=100, method="inclusive") if len(waits) > 1 else waits * 99
    return {
        "n": len(waits),
        "p50_ms": round(statistics.median(waits) * 1000, 1),
        "p99_ms": round(cuts[98] * 1000, 1),
        "max_ms": round(max(waits) * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=float, default=100.0, help="size of the CSV [MB]")
    parser.add_argument("--baseline", type=int, default=50, help="readings before the upload")
    parser.add_argument("--serve", nargs=2, metavar=("DIR", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve[0]), int(args.serve[1]))
        return
    folder = Path(tempfile.mkdtemp(prefix="tansuan-bench-uploads-"))
    csv_path = folder / "upload.csv"
    rows = write_csv(csv_path, args.mb)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    limit = str(int(args.mb * 1_000_000) + 1_048_576)
    env = {
        **os.environ,
        "TANSUAN_DATA_DIR": str(folder),
        "TANSUAN_DATABASE_URL": f"sqlite:///{folder / 'tansuan.db'}",
        "TANSUAN_UPLOAD_MAX_BYTES_MANUAL_DATA": limit,
        "TANSUAN_UPLOAD_MAX_ROWS": str(rows + 10),
    }
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(folder), str(port)], env=env
    )
    try:
        deadline = time.monotonic() + 120
        while not (folder / "tokens.json").exists():
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.1)
        tokens = json.loads((folder / "tokens.json").read_text())
        base = f"http://127.0.0.1:{port}"
        clients = {
            name: httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=600
            )
            for name, token in tokens.items()
        }
        alice, bob = clients["alice"], clients["bob"]
        while True:
            try:
                alice.get("/api/v1/me")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        base_ts = int(time.time()) - 30 * 86_400
        baseline = [post_reading(bob, i, base_ts) for i in range(args.baseline)]
        rss_before = rss_kib(server.pid)["VmRSS"]
        started = time.perf_counter()
        with csv_path.open("rb") as handle:
            answer = alice.post(
                "/api/v1/manual-data", files={"file": ("upload.csv", handle, "text/csv")}
            )
        accepted_s = time.perf_counter() - started
        if answer.status_code != 202:
            raise SystemExit(f"upload not a job: {answer.status_code} {answer.text[:300]}")
        location = answer.headers["location"]
        during: list[float] = []
        i = args.baseline
        job: dict[str, Any] = {}
        last_poll = 0.0
        while True:
            during.append(post_reading(bob, i, base_ts))
            i += 1
            if time.perf_counter() - last_poll > 1.0:
                job = alice.get(location).json()
                last_poll = time.perf_counter()
                if job["status"] in ("done", "failed"):
                    break
            time.sleep(0.2)
        job_s = time.perf_counter() - started
        memory = rss_kib(server.pid)
        result = job.get("result") or {}
        print(
            json.dumps(
                {
                    "bench": "uploads",
                    "csv_mb": round(csv_path.stat().st_size / 1e6, 1),
                    "rows": rows,
                    "job_status": job.get("status"),
                    "job_error": job.get("error"),
                    "stored_new": result.get("new"),
                    "upload_to_202_s": round(accepted_s, 2),
                    "job_s": round(job_s, 1),
                    "rows_per_s": round(rows / job_s),
                    "other_org_baseline": figures(baseline),
                    "other_org_during_import": figures(during),
                    "server_rss_mb": {
                        "before": round(rss_before / 1024),
                        "peak": round(memory["VmHWM"] / 1024),
                        "after": round(memory["VmRSS"] / 1024),
                    },
                    "load_avg_1m": os.getloadavg()[0],
                }
            )
        )
    finally:
        server.terminate()
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
