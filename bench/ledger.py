"""Ledger benchmark: append rate, inclusion-proof latency at N leaves, cost to ingest.

Prints one JSON line. Progress goes to stderr (Rich).

    .venv/bin/python bench/ledger.py                  # 10 M leaves (several minutes)
    .venv/bin/python bench/ledger.py --leaves 1000000

Figures:

* ``append_leaves_per_s`` — median over batches of ``Ledger.append_many`` (one
  transaction per batch of ``--batch`` leaves, emission-result-like payloads) while
  building the ``--leaves`` tree on SQLite (WAL, synchronous FULL as the store's default).
* ``proof_ms_median`` / ``proof_ms_p99`` — ``Ledger.inclusion_proof`` for random leaves
  of the full tree (one query + folding); ``proof_json_ms_median`` for the JSON API form
  (adds the leaf and STH look-ups).
* ``ingest_*`` — a stand-in for ingest (the real one is another issue): batches of
  10,000 readings (1,000 points × 10 instants, time-ordered) ``executemany``'d into a
  SQLite table keyed (point, ts, version) ``WITHOUT ROWID``, with and without
  ``Ledger.ingest_hook`` in the same transaction; alternated batch by batch so machine
  load hits both alike. ``ingest_ratio`` = throughput with / without the ledger.
* ``real_ingest_*`` — the same question through tansuan's real ``Ingestor`` (validation,
  staging, hour/day rollups; the platform's ledger hook on ``BatchRows`` with integer
  point codes) on two SQLite stores; ``--ingest-batches`` rounds, each ingesting the same
  10k-reading batch into both stores, the order alternating by round. Medians over the
  rounds after a short warm-up: ``real_ingest_ratio`` = median of the per-round ratios
  (throughput with / without the ledger; each round's two batches ran back to back, so
  a slow spell hits both and cancels); ``real_ingest_ratio_of_medians`` = median
  throughput with / median throughput without (moves when the load changes mid-run);
  ``real_hook_ms_per_batch`` = the hook alone, timed inside the logged arm;
  ``real_hook_share`` = that over the median logged batch (the commit of the extra bytes
  is not in it; the ratios include it). ``loadavg_1m_*`` say how busy the machine was.
* ``verify_readings_per_s`` — ``verify_source`` over the logged stand-in database: every
  batch read back, re-encoded and compared with its signed record, every root recomputed.
* ``encode_us_per_reading`` — the canonical readings record alone, and, for comparison,
  ``naive_digest_us_per_reading``: struct.pack + SHA-256 per reading in a Python loop.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import hashlib
import json
import os
import random
import statistics
import struct
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import Engine, create_engine, event

from tansuan.ledger import merkle
from tansuan.ledger.api import inclusion_proof_json
from tansuan.ledger.canonical import Row, encode_readings
from tansuan.ledger.log import Entry, Ledger
from tansuan.ledger.schema import POSTGRES_BODY_STORAGE, create_tables
from tansuan.ledger.sources import LiveSource
from tansuan.ledger.verify import verify_source

UTC = dt.UTC
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
US = dt.timedelta(microseconds=1)
err = Console(stderr=True)


def sqlite_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    return engine


def progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
    )


def entries(start: int, n: int) -> list[Entry]:
    return [
        Entry(
            "emission_result",
            f"result/{i}@1",
            {"co2_t": i * 0.001, "sha256": hashlib.sha256(str(i).encode()).hexdigest()},
        )
        for i in range(start, start + n)
    ]


def build(engine: Engine, ledger: Ledger, n_leaves: int, batch: int) -> list[float]:
    rates = []
    with progress() as bar:
        task = bar.add_task("building tree / 构建", total=n_leaves)
        done = 0
        while done < n_leaves:
            n = min(batch, n_leaves - done)
            todo = entries(done, n)
            start = time.perf_counter()
            with engine.begin() as connection:
                ledger.append_many(connection, todo)
            rates.append(n / (time.perf_counter() - start))
            done += n
            bar.advance(task, n)
    return rates


def proofs(engine: Engine, ledger: Ledger, n_leaves: int, samples: int) -> dict[str, float]:
    rng = random.Random(6962)
    head = ledger.issue_sth_now(engine)
    timings, json_timings = [], []
    with engine.connect() as connection:
        for check in range(samples):
            index = rng.randrange(n_leaves)
            start = time.perf_counter()
            path = ledger.inclusion_proof(connection, index, n_leaves)
            timings.append(time.perf_counter() - start)
            if check < 50:
                leaf = ledger.leaf(connection, index)
                assert merkle.verify_inclusion(
                    index, n_leaves, leaf.leaf_hash, path, head.root_hash
                ), index
            start = time.perf_counter()
            inclusion_proof_json(ledger, connection, index)
            json_timings.append(time.perf_counter() - start)
    timings.sort()
    return {
        "proof_ms_median": round(statistics.median(timings) * 1e3, 3),
        "proof_ms_p99": round(timings[int(len(timings) * 0.99)] * 1e3, 3),
        "proof_json_ms_median": round(statistics.median(json_timings) * 1e3, 3),
        "proof_path_len": len(path),
    }


def reading_batches(n_batches: int, points: int = 1000, steps: int = 10) -> list[list[Row]]:
    t0 = dt.datetime(2026, 1, 1, tzinfo=UTC)
    rng = random.Random(1)
    batches = []
    for b in range(n_batches):
        rows = []
        for step in range(steps):
            ts = t0 + dt.timedelta(minutes=b * steps + step)
            for p in range(points):
                rows.append(("site-1", f"point-{p:04d}", ts, rng.uniform(0, 500), "N", 1))
        batches.append(rows)
    return batches


def ingest_ratio(directory: Path, n_batches: int) -> dict[str, float]:
    schema_sql = (
        "CREATE TABLE readings (point_id TEXT NOT NULL, ts_us INTEGER NOT NULL, "
        "version INTEGER NOT NULL, site_id TEXT NOT NULL, value REAL NOT NULL, "
        "quality TEXT NOT NULL, batch_id INTEGER NOT NULL, "
        "PRIMARY KEY (point_id, ts_us, version)) WITHOUT ROWID"
    )
    insert_sql = "INSERT INTO readings VALUES (?, ?, ?, ?, ?, ?, ?)"
    bare = sqlite_engine(directory / "bare.db")
    logged = sqlite_engine(directory / "logged.db")
    for engine in (bare, logged):
        with engine.begin() as connection:
            connection.exec_driver_sql(schema_sql)
    create_tables(logged)
    ledger = Ledger(Ed25519PrivateKey.generate())
    batches = reading_batches(n_batches * 2)
    # The 600k pre-built readings (3.6 M objects) would make every GC pass scan them and
    # charge that to whichever arm allocates more; a real ingest does not hold them.
    gc.collect()
    gc.freeze()

    def one(engine: Engine, batch_id: int, rows: list[Row], hook: bool) -> float:
        start = time.perf_counter()
        params = [(p, (t - EPOCH) // US, ver, s, v, q, batch_id) for s, p, t, v, q, ver in rows]
        with engine.begin() as connection:
            connection.exec_driver_sql(insert_sql, params)
            if hook:
                ledger.ingest_hook(connection, batch_id, rows)
        return len(rows) / (time.perf_counter() - start)

    without: list[float] = []
    with_ledger: list[float] = []
    with progress() as bar:
        task = bar.add_task("ingest stand-in / 模拟写入", total=n_batches * 2)
        for b in range(n_batches):
            # alternate which goes first so neither always gets the warmer cache
            order = [(bare, False), (logged, True)]
            if b % 2:
                order.reverse()
            for engine, hook in order:
                rate = one(engine, b, batches[2 * b + hook], hook)
                (with_ledger if hook else without).append(rate)
                bar.advance(task)
    bare.dispose()

    # verify the logged database: every batch re-read, re-encoded and compared
    def batch_rows(connection, batch_id):  # type: ignore[no-untyped-def]
        result = connection.exec_driver_sql(
            "SELECT site_id, point_id, ts_us, value, quality, version FROM readings "
            "WHERE batch_id = ? ORDER BY point_id, ts_us, version",
            (batch_id,),
        )
        return [(s, p, EPOCH + t * US, v, q, ver) for s, p, t, v, q, ver in result]

    with logged.begin() as connection:
        connection.exec_driver_sql("CREATE INDEX readings_batch ON readings (batch_id)")
    ledger.issue_sth_now(logged)
    start = time.perf_counter()
    with logged.connect() as connection:
        outcome = verify_source(LiveSource(connection, batch_rows, ledger.public_key))
    verify_s = time.perf_counter() - start
    assert outcome.ok, outcome.findings
    logged.dispose()

    sample = batches[0]
    encode = []
    for _ in range(20):
        start = time.perf_counter()
        encode_readings(sample)
        encode.append(time.perf_counter() - start)
    naive = []
    for _ in range(5):
        start = time.perf_counter()
        for s, p, t, v, q, ver in sample:
            hashlib.sha256(
                struct.pack(">qdI", (t - EPOCH) // US, v, ver)
                + s.encode()
                + p.encode()
                + q.encode()
            ).digest()
        naive.append(time.perf_counter() - start)
    hook_cost = []
    db = create_engine("sqlite://")
    create_tables(db)
    for b in range(10):
        with db.begin() as connection:
            start = time.perf_counter()
            ledger.ingest_hook(connection, b, sample)
            hook_cost.append(time.perf_counter() - start)
    db.dispose()
    median_without = statistics.median(without)
    median_with = statistics.median(with_ledger)
    return {
        "ingest_readings_per_s_without_ledger": round(median_without),
        "ingest_readings_per_s_with_ledger": round(median_with),
        "ingest_ratio": round(median_with / median_without, 3),
        "ingest_batches_each": n_batches,
        "hook_ms_per_10k_batch": round(statistics.median(hook_cost) * 1e3, 2),
        "verify_readings_per_s": round(outcome.readings / verify_s),
        "encode_us_per_reading": round(statistics.median(encode) / len(sample) * 1e6, 3),
        "naive_digest_us_per_reading": round(statistics.median(naive) / len(sample) * 1e6, 3),
    }


def _one_site_model(points: list[str]):  # type: ignore[no-untyped-def]
    from tansuan.site.model import SiteModel

    device = {
        "id": "d",
        "class": "meter",
        "points": [{"id": p, "quantity": "power", "unit": "kW"} for p in points],
    }
    site = {"id": "site-1", "areas": [{"id": "a", "devices": [device]}]}
    return SiteModel.model_validate(
        {"organisation": {"id": "org", "companies": [{"id": "co", "sites": [site]}]}}
    )


@contextlib.contextmanager
def _store_urls(directory: Path, pg_url: str | None) -> Iterator[dict[str, str]]:
    """Two empty databases: SQLite files, or two fresh schemas in ``pg_url`` (dropped
    afterwards; the ledger body column as a migration would set it)."""
    if pg_url is None:
        yield {name: f"sqlite:///{directory / f'real-{name}.db'}" for name in ("bare", "logged")}
        return
    tag = os.urandom(4).hex()
    schemas = {name: f"bench_ledger_{name}_{tag}" for name in ("bare", "logged")}
    admin = create_engine(pg_url)
    with admin.begin() as connection:
        for schema in schemas.values():
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in pg_url else "?"
    try:
        yield {
            name: f"{pg_url}{separator}options=-csearch_path%3D{schema}"
            for name, schema in schemas.items()
        }
    finally:
        with admin.begin() as connection:
            for schema in schemas.values():
                connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def _interleave(  # type: ignore[no-untyped-def]
    urls: dict[str, str], model, hooks, points: list[str], n_rounds: int, pg: bool
) -> dict[str, list[float]]:
    """Seconds per batch of each store ("bare": no hooks, "logged": ``hooks``)."""
    import numpy as np

    from tansuan.ingest.ingestor import Ingestor
    from tansuan.store import Store

    stores = {}
    for name, batch_hooks in (("bare", []), ("logged", hooks)):
        store = Store(urls[name])
        store.load_model(model)
        if pg:
            with store.engine.begin() as connection:
                connection.exec_driver_sql(POSTGRES_BODY_STORAGE)
        stores[name] = (store, Ingestor(store, batch_hooks=batch_hooks))
    t0_us = (dt.datetime(2026, 1, 1, tzinfo=UTC) - EPOCH) // US
    rng = np.random.default_rng(1)
    seconds: dict[str, list[float]] = {"bare": [], "logged": []}
    gc.collect()
    gc.freeze()
    try:
        with progress() as bar:
            task = bar.add_task("real ingest / 真实写入", total=n_rounds * 2)
            for b in range(n_rounds):
                ts = np.repeat(t0_us + (b * 10 + np.arange(10)) * 60_000_000, len(points))
                names = points * 10
                values = rng.uniform(0, 500, size=ts.size)
                for name in ("bare", "logged") if b % 2 == 0 else ("logged", "bare"):
                    _, ingestor = stores[name]
                    start = time.perf_counter()
                    result = ingestor.ingest_columns("site-1", names, ts, values)
                    seconds[name].append(time.perf_counter() - start)
                    assert result.accepted == ts.size, result.errors[:3]
                    bar.advance(task)
    finally:
        gc.unfreeze()
        for store, _ in stores.values():
            store.close()
    return seconds


def real_ingest_ratio(
    directory: Path, n_rounds: int, pg_url: str | None = None
) -> dict[str, object]:
    """The ratio through tansuan's real ingest (``Ingestor.ingest_columns``: validation,
    staging, rollups, one transaction a batch) with and without the platform's ledger
    batch hook, on two SQLite stores (WAL, synchronous FULL) or, with ``pg_url``, two
    fresh schemas of one PostgreSQL.

    Interleaved: each round ingests the same 10k-reading batch (1,000 points × 10
    instants) into both stores, the order alternating from round to round, so load from
    other processes hits both arms alike. The first rounds are warm-up and not counted.
    The points are declared in shuffled order, so their ids do not follow their keys
    (the record must then be sorted, as for most real site models).
    """
    from tansuan.platform import ledger_batch_hook

    points = [f"point-{p:04d}" for p in range(1000)]
    declared = list(points)
    random.Random(7).shuffle(declared)
    model = _one_site_model(declared)
    ledger = Ledger(Ed25519PrivateKey.generate())
    inner = ledger_batch_hook(ledger)
    hook_s: list[float] = []

    def timed_hook(connection, batch_id, rows):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        inner(connection, batch_id, rows)
        hook_s.append(time.perf_counter() - start)

    with _store_urls(directory, pg_url) as urls:
        seconds = _interleave(urls, model, [timed_hook], points, n_rounds, pg_url is not None)
    warm = min(5, n_rounds // 10)
    bare, logged, hook = seconds["bare"][warm:], seconds["logged"][warm:], hook_s[warm:]
    n = len(points) * 10
    without, with_ledger = n / statistics.median(bare), n / statistics.median(logged)
    return {
        "real_ingest_database": "postgresql" if pg_url else "sqlite",
        "real_ingest_readings_per_s_without_ledger": round(without),
        "real_ingest_readings_per_s_with_ledger": round(with_ledger),
        "real_ingest_ratio": round(
            statistics.median(a / b for a, b in zip(bare, logged, strict=True)), 3
        ),
        "real_ingest_ratio_of_medians": round(with_ledger / without, 3),
        "real_ingest_rounds": len(bare),
        "real_hook_ms_per_batch": round(statistics.median(hook) * 1e3, 3),
        "real_hook_share": round(statistics.median(hook) / statistics.median(logged), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=10_000_000, help="tree size to build")
    parser.add_argument("--batch", type=int, default=10_000, help="leaves per append")
    parser.add_argument("--samples", type=int, default=2000, help="inclusion proofs to time")
    parser.add_argument("--ingest-batches", type=int, default=60, help="10k-reading batches")
    parser.add_argument("--dir", type=Path, default=None, help="folder for the SQLite files")
    parser.add_argument("--skip-ingest", action="store_true", help="only the tree figures")
    parser.add_argument(
        "--real-ingest-only", action="store_true", help="only the real-ingest figures"
    )
    parser.add_argument(
        "--real-ingest-pg",
        default=None,
        metavar="URL",
        help="run the real-ingest figures on this PostgreSQL (two throwaway schemas)",
    )
    args = parser.parse_args()
    load_start = round(os.getloadavg()[0], 2)

    figures: dict[str, object] = {}
    if args.real_ingest_only:
        with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
            figures |= real_ingest_ratio(Path(tmp), args.ingest_batches, args.real_ingest_pg)
        print(json.dumps({"bench": "ledger", "loadavg_1m_start": load_start, **figures}))
        return
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        directory = Path(tmp)
        if not args.skip_ingest:
            figures |= ingest_ratio(directory, args.ingest_batches)
            figures |= real_ingest_ratio(directory, args.ingest_batches, args.real_ingest_pg)
        engine = sqlite_engine(directory / "ledger.db")
        create_tables(engine)
        ledger = Ledger(Ed25519PrivateKey.generate())
        start = time.perf_counter()
        rates = build(engine, ledger, args.leaves, args.batch)
        build_s = time.perf_counter() - start
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
        figures |= proofs(engine, ledger, args.leaves, args.samples)
        db_mb = os.path.getsize(directory / "ledger.db") / 1e6
        engine.dispose()
    result = {
        "bench": "ledger",
        "loadavg_1m_start": load_start,
        "loadavg_1m_end": round(os.getloadavg()[0], 2),
        "leaves": args.leaves,
        "append_leaves_per_s": round(statistics.median(rates)),
        "append_leaves_per_s_overall": round(args.leaves / build_s),
        "append_batch": args.batch,
        "build_s": round(build_s, 1),
        "db_mb": round(db_mb),
        **figures,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
