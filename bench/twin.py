"""Benchmark: how fast the twin generates history, and how fast it lands in the store.

Figures (one JSON line):

* ``gen_year_native_s`` — median time to simulate a year of the shipyard (335 points,
  ~300 fans) at its native intervals (compressors every minute, CEMS every 5 min, fans
  and meters every 15 min; base step 1 min): ``rows_year_native`` readings;
* ``gen_year_hourly_s`` — the same year thinned to ≥ 1 h per point (CEMS kept at 5 min),
  the ``--step 3600`` backfill;
* ``gen_rows_per_s`` and ``bare_rows_per_s`` — generation rate against the bare
  baseline: numpy drawing the same number of normal floats and repeating the point ids
  (the least work any generator must do to hand out those columns), and the ratio;
* ``gen_year_1min_all_s`` — a year of 1-minute data for *every* point (335 points incl.
  300 fans, every simulation step emitted): ``rows_year_1min_all`` readings (run once);
* ``backfill_days``, ``backfill_rows_per_s``, ``ingest_share`` — a ``--days`` backfill of
  the shipyard into a fresh SQLite store through the platform's ingestor (ledger hooks
  included): rows stored per second end to end, and the share of time spent in ingest.

Usage: ``python bench/twin.py [--repeat 3] [--days 30]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tansuan.platform import open_platform
from tansuan.settings import Settings
from tansuan.twin import demo
from tansuan.twin.history import backfill
from tansuan.twin.plant import Plant

END = dt.date(2025, 12, 31)


def generate_year(history_step_s: int | None, every_minute: bool = False) -> tuple[float, int]:
    site = demo.site("shipyard")
    plant = Plant(site, demo.spec("shipyard", end=END))
    rows = 0
    t0 = time.perf_counter()
    for i in range(365):
        day = END - dt.timedelta(days=364 - i)
        if every_minute:
            frame, _ = plant.day(day, step_s=60, every_step=True)
        else:
            frame, _ = plant.day(day, history_step_s=history_step_s)
        rows += frame.n
    return time.perf_counter() - t0, rows


def bare(rows: int) -> float:
    t0 = time.perf_counter()
    rng = np.random.default_rng(1)
    chunk = rows // 365
    names = np.array([f"p{i}" for i in range(335)], dtype=object)
    for _ in range(365):
        rng.standard_normal(chunk)
        np.repeat(names, chunk // 335 + 1)
        np.arange(chunk, dtype=np.int64)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    native = [generate_year(None) for _ in range(args.repeat)]
    hourly = [generate_year(3600) for _ in range(args.repeat)]
    minute = generate_year(None, every_minute=True)
    rows = native[0][1]
    gen_s = statistics.median(t for t, _ in native)
    bare_s = statistics.median(bare(rows) for _ in range(args.repeat))
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        platform = open_platform(settings)
        try:
            t0 = time.perf_counter()
            report = backfill(
                platform,
                demo.site_model("shipyard"),
                demo.spec("shipyard", end=END),
                days=args.days,
                end=END,
            )
            total_s = time.perf_counter() - t0
        finally:
            platform.close()
    figures = {
        "machine": "2 cores, shared with other jobs (figures taken under load)",
        "gen_year_native_s": round(gen_s, 2),
        "rows_year_native": rows,
        "gen_year_hourly_s": round(statistics.median(t for t, _ in hourly), 2),
        "rows_year_hourly": hourly[0][1],
        "gen_rows_per_s": round(rows / gen_s),
        "bare_rows_per_s": round(rows / bare_s),
        "gen_vs_bare": round(gen_s / bare_s, 2),
        "gen_year_1min_all_s": round(minute[0], 2),
        "rows_year_1min_all": minute[1],
        "gen_1min_rows_per_s": round(minute[1] / minute[0]),
        "backfill_days": args.days,
        "backfill_rows": report.rows_stored,
        "backfill_s": round(total_s, 2),
        "backfill_rows_per_s": round(report.rows_stored / total_s),
        "ingest_share": round(report.ingest_s / total_s, 2),
    }
    sys.stdout.write(json.dumps(figures) + "\n")


if __name__ == "__main__":
    main()
