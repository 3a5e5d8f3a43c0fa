"""Ingest throughput: ``ingest()`` and ``POST /api/v1/readings`` vs a bare insert.

Prints ONE JSON line. For each engine (SQLite; PostgreSQL when a URL is given):

* ``bare``: the same rows, in the same batches, into a table of the same shape as
  ``reading`` (key (site_id, point_id, ts_us), batch index) — plain ``executemany``
  on SQLite (WAL, synchronous as ingest), ``COPY`` on PostgreSQL — one commit per batch;
* ``ingest``: :meth:`Ingestor.ingest_columns` (validation, units, dedupe, staging,
  hour/day rollups, durable commit per batch);
* ``http``: a real uvicorn server (subprocess) on localhost and a real HTTP client
  posting columnar JSON batches (bodies encoded before the clock starts).

Rates are readings/s over the whole run and the median of per-batch rates; ratios are
against ``bare``. ``--big`` instead ingests 10 M readings in a subprocess and reports
its peak RSS (VmHWM).

    .venv/bin/python bench/ingest.py [--readings 500000] [--pg URL] [--big]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import numpy as np
import orjson

POINTS = 1000
T0_US = 1_793_491_200_000_000  # 2026-11-01T00:00:00Z
MINUTE_US = 60_000_000


def site_model(points: int = POINTS):  # noqa: ANN201
    from tansuan.site.model import SiteModel

    return SiteModel.model_validate(
        {
            "version": 1,
            "organisation": {
                "id": "bench",
                "companies": [
                    {
                        "id": "co",
                        "sites": [
                            {
                                "id": "s",
                                "areas": [
                                    {
                                        "id": "a",
                                        "devices": [
                                            {
                                                "id": "d",
                                                "class": "meter",
                                                "points": [
                                                    {
                                                        "id": f"p{i}",
                                                        "quantity": "energy",
                                                        "unit": "kWh",
                                                        "kind": "total_increasing"
                                                        if i % 2
                                                        else "instantaneous",
                                                    }
                                                    for i in range(points)
                                                ],
                                            }
                                        ],
                                    }
                                ],
                            }
                        ],
                    }
                ],
            },
        }
    )


def batches(n_readings: int, batch: int, offset: int = 0):  # noqa: ANN201
    """Time-ordered batches: ``batch // POINTS`` minutes of every point each."""
    names = [f"p{i}" for i in range(POINTS)]
    per = batch // POINTS
    point_col = names * per
    for b in range(n_readings // batch):
        minute = offset + b * per
        ts = np.repeat(T0_US + (minute + np.arange(per)) * MINUTE_US, POINTS)
        values = (minute + np.repeat(np.arange(per), POINTS)) * 1.5 + np.tile(
            np.arange(POINTS), per
        )
        yield point_col, ts, values.astype(np.float64)


def rates(sizes: list[int], seconds: list[float]) -> dict[str, float]:
    total = sum(seconds)
    return {
        "readings_per_s": round(sum(sizes) / total),
        "median_batch_readings_per_s": round(
            statistics.median(n / s for n, s in zip(sizes, seconds, strict=False))
        ),
        "seconds": round(total, 3),
    }


def bare_sqlite(path: Path, n: int, batch: int, synchronous: str) -> dict[str, float]:
    import sqlite3

    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")
    db.execute(
        "CREATE TABLE reading (site_id INTEGER NOT NULL, point_id INTEGER NOT NULL, "
        "ts_us BIGINT NOT NULL, value FLOAT NOT NULL, quality VARCHAR(1) NOT NULL, "
        "batch_id INTEGER NOT NULL, version INTEGER NOT NULL, "
        "PRIMARY KEY (site_id, point_id, ts_us)) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX ix_reading_batch ON reading (batch_id)")
    sizes, seconds = [], []
    for k, (points, ts, values) in enumerate(batches(n, batch)):
        start = time.perf_counter()
        rows = list(
            zip(
                [1] * len(points),
                [int(p[1:]) for p in points],
                ts.tolist(),
                values.tolist(),
                ["N"] * len(points),
                [k] * len(points),
                [1] * len(points),
                strict=False,
            )
        )
        db.execute("BEGIN")
        db.executemany("INSERT INTO reading VALUES (?,?,?,?,?,?,?)", rows)
        db.execute("COMMIT")
        seconds.append(time.perf_counter() - start)
        sizes.append(len(points))
    db.close()
    return rates(sizes, seconds)


def bare_pg(url: str, n: int, batch: int) -> dict[str, float]:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    table = f"bare_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            f"CREATE TABLE {table} (site_id INTEGER NOT NULL, point_id INTEGER NOT NULL, "
            "ts_us BIGINT NOT NULL, value FLOAT NOT NULL, quality VARCHAR(1) NOT NULL, "
            "batch_id INTEGER NOT NULL, version INTEGER NOT NULL, "
            "PRIMARY KEY (site_id, point_id, ts_us))"
        )
        conn.execute(f"CREATE INDEX ON {table} (batch_id)")
        sizes, seconds = [], []
        try:
            for k, (points, ts, values) in enumerate(batches(n, batch)):
                start = time.perf_counter()
                with conn.transaction(), conn.cursor() as cur:
                    with cur.copy(f"COPY {table} FROM STDIN") as copy:
                        for p, t, v in zip(points, ts.tolist(), values.tolist(), strict=False):
                            copy.write_row((1, int(p[1:]), t, v, "N", k, 1))
                seconds.append(time.perf_counter() - start)
                sizes.append(len(points))
        finally:
            conn.execute(f"DROP TABLE {table}")
    return rates(sizes, seconds)


def via_ingest(url: str, n: int, batch: int) -> dict[str, float]:
    from tansuan.ingest.ingestor import Ingestor
    from tansuan.store import Store

    store = Store(url)
    store.load_model(site_model(), "bench")
    ingestor = Ingestor(store)
    sizes, seconds = [], []
    for points, ts, values in batches(n, batch):
        start = time.perf_counter()
        result = ingestor.ingest_columns("s", points, ts, values, source="bench")
        seconds.append(time.perf_counter() - start)
        assert result.new == len(points), result
        sizes.append(len(points))
    store.close()
    return rates(sizes, seconds)


def via_ingest_small(url: str, n_batches: int = 300, size: int = 10) -> dict[str, float]:
    """Small batches (a gateway's packet: ``size`` points at one instant), where the
    per-commit cost, i.e. ``synchronous``, dominates."""
    from tansuan.ingest.ingestor import Ingestor
    from tansuan.store import Store

    store = Store(url)
    store.load_model(site_model(), "bench")
    ingestor = Ingestor(store)
    names = [f"p{i}" for i in range(size)]
    sizes, seconds = [], []
    for b in range(n_batches):
        ts = np.full(size, T0_US + b * MINUTE_US, dtype=np.int64)
        start = time.perf_counter()
        ingestor.ingest_columns("s", names, ts, np.full(size, float(b)), source="bench")
        seconds.append(time.perf_counter() - start)
        sizes.append(size)
    store.close()
    return rates(sizes, seconds)


def via_http(
    url: str, n: int, batch: int, env: dict[str, str], *, lazy: bool = False
) -> dict[str, float]:
    """POST columnar JSON batches to a real uvicorn server; bodies are encoded before
    each request's clock starts (all up front unless ``lazy``). Adds the server's peak
    RSS [MB]."""
    from tansuan.store import Store

    store = Store(url)
    store.load_model(site_model(), "bench")
    store.close()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "tansuan.web.app:app_from_env",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
         "--no-access-log"],
        env={**os.environ, **env, "TANSUAN_DATABASE_URL": url, "TANSUAN_INGEST_TOKEN": TOKEN,
             "TANSUAN_DATA_DIR": tempfile.mkdtemp(prefix="tansuan-bench-")},
    )  # fmt: skip

    def encoded():  # noqa: ANN202
        for points, ts, values in batches(n, batch):
            body = {"site": "s", "point": points, "ts": (ts / 1e6).tolist(),
                    "value": values.tolist()}  # fmt: skip
            yield len(points), orjson.dumps(body)

    bodies = encoded() if lazy else list(encoded())
    sizes, seconds = [], []
    peak_mb = 0.0
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    http.get("/openapi.json")
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            for size, body in bodies:
                start = time.perf_counter()
                post(http, size, body)
                seconds.append(time.perf_counter() - start)
                sizes.append(size)
        with open(f"/proc/{server.pid}/status") as status:
            hwm = next(line for line in status if line.startswith("VmHWM"))
        peak_mb = int(hwm.split()[1]) / 1024
    finally:
        server.terminate()
        server.wait(30)
    return {**rates(sizes, seconds), "server_peak_rss_mb": round(peak_mb, 1)}


#: The server's ingest token for this run (the deployment-wide ingest-only token).
TOKEN = "bench-" + uuid.uuid4().hex


def post(http: httpx.Client, size: int, body: bytes) -> None:
    answer = http.post(
        "/api/v1/readings",
        content=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["new"] == size, answer.text[:300]


def fresh_pg(base: str) -> tuple[str, str]:
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(
        base.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    ) as c:
        c.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}", schema


def drop_pg(base: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(
        base.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    ) as c:
        c.execute(f"DROP SCHEMA {schema} CASCADE")


def big(n: int, batch: int) -> dict[str, object]:
    """Ingest ``n`` readings in a child process, and ``n`` more through a uvicorn server;
    report the peak RSS of each."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'big.db'}"
        code = (
            "import sys, time; sys.path.insert(0, 'bench'); import ingest as b;"
            f"t=time.perf_counter(); r=b.via_ingest({url!r}, {n}, {batch});"
            "hwm=[l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1];"
            "import json; print(json.dumps({'rate': r, 'peak_rss_mb': int(hwm)/1024}))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        got = json.loads(out.strip().splitlines()[-1])
        size = sum(p.stat().st_size for p in Path(folder).iterdir())
        http = via_http(f"sqlite:///{Path(folder) / 'big-http.db'}", n, batch, {}, lazy=True)
    return {
        "big_http_readings_per_s": http["readings_per_s"],
        "big_http_seconds": http["seconds"],
        "big_http_server_peak_rss_mb": http["server_peak_rss_mb"],
        "big_readings": n,
        "big_ingest_readings_per_s": got["rate"]["readings_per_s"],
        "big_seconds": got["rate"]["seconds"],
        "peak_rss_mb": round(got["peak_rss_mb"], 1),
        "db_bytes_per_reading": round(size / n, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=500_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--pg", default=os.environ.get("TANSUAN_TEST_PG_URL"))
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median kept)")
    parser.add_argument("--big", action="store_true", help="10 M readings, peak RSS")
    parser.add_argument("--big-readings", type=int, default=10_000_000)
    args = parser.parse_args()
    out: dict[str, object] = {
        "bench": "ingest",
        "readings": args.readings,
        "batch": args.batch,
        "points": POINTS,
        "cpus": os.cpu_count(),
        "repeat": args.repeat,
        "load_avg_1m_start": os.getloadavg()[0],
    }

    def repeated(fn, *fargs, **kwargs) -> dict[str, object]:  # noqa: ANN001
        runs = [fn(*fargs, **kwargs) for _ in range(args.repeat)]
        extra = {}
        if "server_peak_rss_mb" in runs[0]:
            extra["server_peak_rss_mb"] = max(r["server_peak_rss_mb"] for r in runs)
        return {
            **extra,
            "readings_per_s": round(statistics.median(r["readings_per_s"] for r in runs)),
            "median_batch_readings_per_s": round(
                statistics.median(r["median_batch_readings_per_s"] for r in runs)
            ),
            "runs_readings_per_s": [r["readings_per_s"] for r in runs],
        }

    def fresh_sqlite(name: str) -> Path:
        return Path(folder) / f"{name}-{uuid.uuid4().hex[:6]}.db"

    if args.big:
        out.update(big(args.big_readings, args.batch))
        print(json.dumps(out))
        return
    folder = tempfile.mkdtemp(prefix="tansuan-bench-")
    try:
        n, size = args.readings, args.batch
        for sync in ("FULL", "NORMAL"):
            env = {"TANSUAN_SQLITE_SYNCHRONOUS": sync}
            os.environ.update(env)
            from tansuan.settings import get_settings

            get_settings.cache_clear()
            key = f"sqlite_{sync.lower()}"
            bare = repeated(lambda s=sync: bare_sqlite(fresh_sqlite("bare"), n, size, s))
            ing = repeated(lambda: via_ingest(f"sqlite:///{fresh_sqlite('ingest')}", n, size))
            small = repeated(lambda: via_ingest_small(f"sqlite:///{fresh_sqlite('small')}"))
            http = repeated(lambda e=env: via_http(f"sqlite:///{fresh_sqlite('http')}", n, size, e))
            out[key] = {
                "bare": bare,
                "ingest": ing,
                "http": http,
                "ingest_batches_of_10": small,
                "ingest_over_bare": round(ing["readings_per_s"] / bare["readings_per_s"], 3),
                "http_over_bare": round(http["readings_per_s"] / bare["readings_per_s"], 3),
            }
        os.environ["TANSUAN_SQLITE_SYNCHRONOUS"] = "FULL"
    finally:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    if args.pg:

        def in_schema(fn, *fargs):  # noqa: ANN001, ANN202
            url, schema = fresh_pg(args.pg)
            try:
                return fn(url, *fargs)
            finally:
                drop_pg(args.pg, schema)

        bare = repeated(bare_pg, args.pg, args.readings, args.batch)
        ing = repeated(in_schema, via_ingest, args.readings, args.batch)
        http = repeated(in_schema, via_http, args.readings, args.batch, {})
        out["postgresql"] = {
            "bare": bare,
            "ingest": ing,
            "http": http,
            "ingest_over_bare": round(ing["readings_per_s"] / bare["readings_per_s"], 3),
            "http_over_bare": round(http["readings_per_s"] / bare["readings_per_s"], 3),
        }
    out["load_avg_1m_end"] = os.getloadavg()[0]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
