"""Verify benchmark: a full ``tansuan verify`` and ``--sample N`` over a site of P points
at 1-minute data for D days, beside the bare cost of hashing and selecting the same data.

Prints one JSON line. Progress goes to stderr (Rich).

    .venv/bin/python bench/verify.py                          # 100 points × 7 days
    .venv/bin/python bench/verify.py --points 300 --days 30 --rounds 3
    .venv/bin/python bench/verify.py --pg postgresql+psycopg://…   # a throwaway schema
    .venv/bin/python bench/verify.py --profile                # cProfile of one full verify

The data are written by tansuan's real ``Ingestor`` (validation, staging, hour/day
rollups, counters) with the platform's ledger hook, one batch per ``--batch-minutes``
minutes of all points (every 4th point a ``total_increasing`` kWh counter, the others
instantaneous kW), into a store on SQLite (WAL, as the store opens it) or PostgreSQL.

Figures (medians of ``--rounds`` rounds, each round runs every arm once, so a slow spell
hits all of them):

* ``full_verify_s`` — ``verify_source`` over the live database: every leaf re-hashed,
  every batch's readings read back, re-encoded and compared with its signed record,
  roots against the tree head, and every rollup recomputed (``verify_rollups``);
  ``full_readings_per_s`` = readings / that. ``full_rollups_s`` is the rollup part alone
  and ``leaves_s`` the rest (``full_verify_s − full_rollups_s``).
* ``sample_s`` — ``verify_rollups`` with ``--sample`` cells (default 10,000, or all cells
  when the site has fewer): the rollup part of ``tansuan verify --sample N``;
  ``sample_verify_s`` the whole command (leaves + sample).
* ``bare_sha256_s`` — ``hashlib.sha256`` over every batch's canonical readings record
  (the bytes the leaves sign, read beforehand); ``bare_select_s`` — a bare
  ``SELECT site_id, point_id, ts_us, value, quality, version FROM reading`` of the same
  rows, fetched (the least any verifier reading the data pays).
* ``extrapolated_full_s_1000x365`` — ``full_verify_s`` scaled linearly by readings to
  1,000 points × 365 days (525.6 M readings): the issue's target is < 60 s; the sample
  target (< 5 s for 10,000 cells) is measured directly.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import hashlib
import io
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import create_engine

from tansuan.ingest.ingestor import Ingestor
from tansuan.ledger.log import Ledger
from tansuan.ledger.schema import POSTGRES_BODY_STORAGE
from tansuan.ledger.signing import load_or_create_key
from tansuan.ledger.sources import LiveSource
from tansuan.ledger.verify import Outcome, verify_source
from tansuan.ledger.verify_rollups import verify_rollups
from tansuan.platform import ledger_batch_hook
from tansuan.site.model import SiteModel
from tansuan.store import Store, batch_rows, reading_batch_ids

err = Console(stderr=True)
MINUTE_US = 60_000_000
T0_US = 1_735_660_800_000_000  # 2024-12-31T16:00:00Z = 2025-01-01 00:00 Asia/Shanghai
TARGET_READINGS = 1000 * 365 * 1440


def progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
    )


def model(n_points: int) -> tuple[SiteModel, list[str]]:
    """The site and its point keys (every 4th a counter)."""
    points: list[dict[str, object]] = []
    for p in range(n_points):
        if p % 4 == 3:
            points.append(
                {"id": f"e{p:04d}", "quantity": "energy", "unit": "kWh",
                 "kind": "total_increasing", "interval_s": 60}
            )  # fmt: skip
        else:
            points.append({"id": f"p{p:04d}", "quantity": "power", "unit": "kW"})
    device = {"id": "d", "class": "meter", "points": points}
    site = {
        "id": "site-1",
        "timezone": "Asia/Shanghai",
        "areas": [{"id": "a", "devices": [device]}],
    }
    document = {"organisation": {"id": "org", "companies": [{"id": "co", "sites": [site]}]}}
    return SiteModel.model_validate(document), [str(p["id"]) for p in points]


@contextlib.contextmanager
def store_url(directory: Path, pg_url: str | None) -> Iterator[str]:
    """An empty database: a SQLite file, or a fresh schema in ``pg_url`` (dropped after)."""
    if pg_url is None:
        yield f"sqlite:///{directory / 'verify.db'}"
        return
    schema = f"bench_verify_{os.urandom(4).hex()}"
    admin = create_engine(pg_url)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in pg_url else "?"
    try:
        yield f"{pg_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def generate(store: Store, ledger: Ledger, n_points: int, days: int, batch_minutes: int) -> int:
    """Ingest P points × D days of 1-minute readings; returns the number of readings."""
    m, keys = model(n_points)
    store.load_model(m)
    if store.engine.dialect.name == "postgresql":
        with store.engine.begin() as connection:
            connection.exec_driver_sql(POSTGRES_BODY_STORAGE)
    counter = np.array([k.startswith("e") for k in keys])
    ingestor = Ingestor(store, batch_hooks=[ledger_batch_hook(ledger)])
    rng = np.random.default_rng(16)
    level = np.where(counter, 1000.0, 0.0)
    total = days * 1440
    names = keys * batch_minutes
    with progress() as bar:
        task = bar.add_task("generating / 生成数据", total=total)
        for start in range(0, total, batch_minutes):
            k = min(batch_minutes, total - start)
            ts = np.repeat(T0_US + (start + np.arange(k)) * MINUTE_US, n_points)
            power = rng.uniform(0, 500, size=(k, n_points))
            step = rng.uniform(0, 2, size=(k, n_points))
            energy = level + np.cumsum(step, axis=0)
            level = energy[-1]
            values = np.where(counter, energy, power).ravel()
            result = ingestor.ingest_columns("site-1", names[: k * n_points], ts, values)
            assert result.accepted == ts.size, result.errors[:3]
            bar.advance(task, k)
    ledger.issue_sth_now(store.engine)
    return total * n_points


def full_verify(store: Store, ledger: Ledger) -> tuple[float, float, Outcome]:
    """Seconds of the whole verify and of its rollup part."""
    import tansuan.ledger.verify as verify_module

    rollup_s: list[float] = []
    inner = verify_module.verify_rollups

    def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        result = inner(*args, **kwargs)
        rollup_s.append(time.perf_counter() - start)
        return result

    verify_module.verify_rollups = timed  # type: ignore[assignment]
    try:
        start = time.perf_counter()
        with store.read() as connection:
            source = LiveSource(
                connection, batch_rows, ledger.public_key, batch_ids=reading_batch_ids
            )
            outcome = verify_source(source)
        total = time.perf_counter() - start
    finally:
        verify_module.verify_rollups = inner
    assert outcome.ok, outcome.findings[:5]
    return total, rollup_s[0], outcome


def sample_verify(store: Store, ledger: Ledger, cells: int, seed: int) -> tuple[float, float, int]:
    """Seconds of the rollup sample alone and of the whole ``verify --sample``."""
    start = time.perf_counter()
    with store.read() as connection:
        outcome = Outcome()
        check = verify_rollups(connection, outcome, sample=cells, seed=seed)
    alone = time.perf_counter() - start
    assert outcome.ok and check.cells == min(cells, check.population), outcome.findings[:5]
    start = time.perf_counter()
    with store.read() as connection:
        source = LiveSource(connection, batch_rows, ledger.public_key, batch_ids=reading_batch_ids)
        outcome = verify_source(source, sample=cells, seed=seed)
    whole = time.perf_counter() - start
    assert outcome.ok, outcome.findings[:5]
    return alone, whole, check.cells


def bodies(store: Store) -> list[bytes]:
    with store.read() as connection:
        rows = connection.exec_driver_sql(
            "SELECT body FROM ledger_leaves WHERE kind = 'ingest_batch' ORDER BY leaf_index"
        ).all()
    return [bytes(r[0]) for r in rows if r[0] is not None]


def bare_sha256(records: list[bytes]) -> float:
    start = time.perf_counter()
    for record in records:
        hashlib.sha256(record).digest()
    return time.perf_counter() - start


def bare_select(store: Store) -> tuple[float, int]:
    start = time.perf_counter()
    n = 0
    with store.read() as connection:
        for table in ("reading", "reading_staging"):
            result = connection.exec_driver_sql(
                f"SELECT site_id, point_id, ts_us, value, quality, version FROM {table}"
            )
            while chunk := result.fetchmany(100_000):
                n += len(chunk)
    return time.perf_counter() - start, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100, help="points of the site (P)")
    parser.add_argument("--days", type=int, default=7, help="days of 1-minute data (D)")
    parser.add_argument("--batch-minutes", type=int, default=60, help="minutes a batch")
    parser.add_argument("--sample", type=int, default=10_000, help="cells of --sample")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (R); medians reported")
    parser.add_argument("--pg", default=None, metavar="URL", help="PostgreSQL (throwaway schema)")
    parser.add_argument("--dir", type=Path, default=None, help="folder for the SQLite file")
    parser.add_argument("--profile", action="store_true", help="cProfile one full verify")
    args = parser.parse_args()
    load_start = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp, store_url(Path(tmp), args.pg) as url:
        ledger = Ledger(load_or_create_key(Path(tmp) / "key"))
        store = Store(url)
        start = time.perf_counter()
        readings = generate(store, ledger, args.points, args.days, args.batch_minutes)
        generate_s = time.perf_counter() - start
        records = bodies(store)
        gc.collect()
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            full_verify(store, ledger)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
            err.print(out.getvalue(), highlight=False, markup=False)
        arms: dict[str, list[float]] = {
            k: [] for k in ("full", "rollups", "sample", "sample_whole", "sha", "select")
        }
        selected = 0
        with progress() as bar:
            task = bar.add_task("verifying / 校验", total=args.rounds)
            for r in range(args.rounds):
                full, rollups, outcome = full_verify(store, ledger)
                arms["full"].append(full)
                arms["rollups"].append(rollups)
                alone, whole, cells = sample_verify(store, ledger, args.sample, seed=r)
                arms["sample"].append(alone)
                arms["sample_whole"].append(whole)
                arms["sha"].append(bare_sha256(records))
                seconds, selected = bare_select(store)
                arms["select"].append(seconds)
                bar.advance(task)
        if store.engine.dialect.name == "sqlite":
            db_mb = os.path.getsize(Path(tmp) / "verify.db") / 1e6
        else:
            db_mb = None
        store.close()
    med = {k: statistics.median(v) for k, v in arms.items()}
    assert selected == readings, (selected, readings)
    print(
        json.dumps(
            {
                "bench": "verify",
                "database": "postgresql" if args.pg else "sqlite",
                "points": args.points,
                "days": args.days,
                "readings": readings,
                "leaves": outcome.leaves,
                "rounds": args.rounds,
                "generate_s": round(generate_s, 1),
                "db_mb": None if db_mb is None else round(db_mb),
                "full_verify_s": round(med["full"], 3),
                "full_rollups_s": round(med["rollups"], 3),
                "leaves_s": round(med["full"] - med["rollups"], 3),
                "full_readings_per_s": round(readings / med["full"]),
                "sample_cells": cells,
                "sample_s": round(med["sample"], 3),
                "sample_verify_s": round(med["sample_whole"], 3),
                "bare_sha256_s": round(med["sha"], 4),
                "bare_sha256_mb": round(sum(len(b) for b in records) / 1e6, 1),
                "bare_select_s": round(med["select"], 3),
                "extrapolated_full_s_1000x365": round(med["full"] * TARGET_READINGS / readings),
                "target_full_s": 60,
                "target_sample_s": 5,
                "loadavg_1m_start": load_start,
                "loadavg_1m_end": round(os.getloadavg()[0], 2),
                "cpus": os.cpu_count(),
                "python": sys.version.split()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
