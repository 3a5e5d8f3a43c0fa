"""Benchmark: annual accounting of a 1,000-point site, and a month's recalculation.

The site: 998 electricity sub-meters (kWh registers, 1-minute interval) in 100 areas, one
electricity source per area; a CEMS stack (CO2 concentration and flue-gas flow,
1-minute interval) as a measurement source; a coal boiler from monthly invoices and lab
analyses. A year of 1-minute data is 525 M readings; as the issue allows, the rollups are
generated directly (daily rollups for every point, hourly rollups for the two CEMS points,
which the CEMS method reads hour by hour) instead of ingesting the raw readings.

Figures (one JSON line):

* ``annual_s`` — median of full annual runs (compute 12 months × 102 sources and save
  every result version), each on an empty results table;
* ``annual_unchanged_s`` — median of re-runs that find every input unchanged;
* ``recalc_month_ms`` — median of: ingest one late reading (through the real ingestor, with
  the accounting stale hook) then recalculate the stale source-month;
* ``bare_sql_s`` — the bare baseline: one GROUP BY over the same daily rollups multiplied
  by the grid factor in numpy, i.e. the least work any engine must do; and the ratio.

Usage: ``python bench/accounting.py [--repeat 5]``
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
from zoneinfo import ZoneInfo

import numpy as np
from rich.console import Console

from tansuan.accounting.engine import Accountant
from tansuan.accounting.periods import parse_period
from tansuan.ingest.ingestor import Ingestor
from tansuan.ingest.manual import import_table
from tansuan.site.model import SiteModel
from tansuan.store import Store, schema
from tansuan.store.timeutil import to_us

TZ = ZoneInfo("Asia/Shanghai")
YEAR = 2025
AREAS = 100
METERS = 998
console = Console(stderr=True)


def model() -> dict[str, object]:
    areas = []
    sources: list[dict[str, object]] = []
    per_area = -(-METERS // AREAS)
    for a in range(AREAS):
        ids = [f"m{m:04d}" for m in range(a * per_area, min(METERS, (a + 1) * per_area))]
        devices = [
            {
                "id": f"dev-{pid}",
                "class": "fan",
                "points": [
                    {"id": pid, "quantity": "energy", "unit": "kWh", "kind": "total_increasing"}
                ],
            }
            for pid in ids
        ]
        areas.append({"id": f"area-{a:03d}", "devices": devices})
        sources.append(
            {
                "id": f"power-{a:03d}",
                "method": "electricity",
                "scope": 2,
                "activity": [{"point": pid} for pid in ids],
            }
        )
    areas.append(
        {
            "id": "utilities",
            "devices": [
                {
                    "id": "stack",
                    "class": "stack",
                    "points": [
                        {"id": "stack.co2", "quantity": "concentration", "unit": "mg/m3"},
                        {"id": "stack.flow", "quantity": "flow", "unit": "m3/h"},
                    ],
                },
                {"id": "boiler", "class": "boiler"},
            ],
        }
    )
    sources += [
        {
            "id": "stack-cems",
            "method": "cems",
            "device": "stack",
            "activity": [{"point": "stack.co2"}, {"point": "stack.flow"}],
        },
        {
            "id": "coal",
            "method": "combustion",
            "device": "boiler",
            "fuel": "raw_coal",
            "activity": [{"series": "coal-use"}],
            "parameters": {"ncv": {"series": "coal-ncv"}, "series": {"value": "mee_power"}},
        },
    ]
    return {
        "version": 1,
        "organisation": {
            "id": "grp",
            "companies": [
                {
                    "id": "co",
                    "sites": [
                        {
                            "id": "big",
                            "grid_region": "east",
                            "areas": areas,
                            "series": [
                                {"id": "coal-use", "kind": "fuel_consumption", "unit": "t"},
                                {"id": "coal-ncv", "kind": "lab_ncv", "unit": "GJ/t"},
                            ],
                            "sources": sources,
                        }
                    ],
                }
            ],
        },
    }


def generate_rollups(store: Store) -> int:
    """Daily rollups for every point and hourly rollups for the CEMS points, directly."""
    rng = np.random.default_rng(7)
    days = [dt.date(YEAR, 1, 1) + dt.timedelta(days=d) for d in range(365)]
    day_keys = [d.year * 10000 + d.month * 100 + d.day for d in days]
    with store.write() as conn:
        rows = conn.exec_driver_sql("SELECT id, site_id, key FROM point").all()
        points = {key: (pid, sid) for pid, sid, key in rows}
        daily = []
        for key, (pid, sid) in points.items():
            if not key.startswith("m"):
                continue
            per_day = rng.uniform(200, 1500, size=365)
            counter = np.cumsum(per_day)
            for i, day in enumerate(day_keys):
                daily.append(
                    (
                        sid,
                        pid,
                        day,
                        1440,
                        1440,
                        float(counter[i] * 1440),
                        float(counter[i] - 1),
                        float(counter[i]),
                        0,
                        float(counter[i] - per_day[i]),
                        0,
                        float(counter[i]),
                        float(per_day[i]),
                        0,
                    )
                )
        columns = (
            "site_id, point_id, day, n, n_valid, sum, min, max, first_ts_us, first, "
            "last_ts_us, last, delta, resets"
        )
        conn.exec_driver_sql(
            f"INSERT INTO rollup_day ({columns}) VALUES ({','.join('?' * 14)})", daily
        )
        start = dt.datetime(YEAR, 1, 1, tzinfo=TZ)
        hourly = []
        for key, mean in (("stack.co2", 180_000.0), ("stack.flow", 250_000.0)):
            pid, sid = points[key]
            values = rng.normal(mean, mean * 0.03, size=8760)
            for h in range(8760):
                hour = to_us(start + dt.timedelta(hours=h))
                v = float(values[h])
                hourly.append((sid, pid, hour, 60, 60, v * 60, v, v, hour, v, hour, v, None, 0))
        conn.exec_driver_sql(
            f"INSERT INTO rollup_hour (site_id, point_id, hour_us, n, n_valid, sum, min, max, "
            f"first_ts_us, first, last_ts_us, last, delta, resets) VALUES ({','.join('?' * 14)})",
            hourly,
        )
        conn.exec_driver_sql("ANALYZE")
    return len(daily) + len(hourly)


def manual_data(store: Store) -> None:
    header = ["site", "series", "period_start", "period_end", "value", "unit", "document_ref"]
    use, ncv = [header], [header]
    for m in range(1, 13):
        first = dt.date(YEAR, m, 1)
        last = dt.date(YEAR + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)
        use.append(["big", "coal-use", str(first), str(last), 30_000, "t", f"INV-{m}"])
        ncv.append(["big", "coal-ncv", str(first), str(last), 21.5, "GJ/t", f"LAB-{m}"])
    import_table(store, use, kind="fuel")
    import_table(store, ncv, kind="lab")


def bare_baseline(store: Store) -> float:
    """One GROUP BY over the daily rollups and a numpy multiply: the least possible work."""
    t0 = time.perf_counter()
    with store.read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT point_id, day / 100, SUM(delta) FROM rollup_day GROUP BY point_id, day / 100"
        ).all()
    kwh = np.array([r[2] for r in rows])
    total = float((kwh * 0.5703e-3).sum())
    assert total > 0
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        with console.status("loading the 1,000-point site model…"):
            site_model = SiteModel.model_validate(model())
            store.load_model(site_model)
        with console.status("generating a year of rollups…"):
            rollup_rows = generate_rollups(store)
            manual_data(store)
        accountant = Accountant(store, site_model)
        ingestor = Ingestor(store, batch_hooks=[accountant.stale_hook])
        period = parse_period(str(YEAR))
        annual, unchanged, recalc, bare = [], [], [], []
        for i in range(args.repeat):
            console.log(f"run {i + 1}/{args.repeat}")
            with store.write() as conn:
                conn.execute(schema.result_lines.delete())
                conn.execute(schema.result_sets.delete())
            t0 = time.perf_counter()
            report = accountant.run("big", period)
            annual.append(time.perf_counter() - t0)
            assert not report.errors, report.errors[:3]
            assert report.outcomes() == {"created": 12 * (AREAS + 2)}, report.outcomes()
            t0 = time.perf_counter()
            again = accountant.run("big", period)
            unchanged.append(time.perf_counter() - t0)
            assert again.outcomes() == {"unchanged": 12 * (AREAS + 2)}
            # A late reading for one sub-meter in March, then recalculate what went stale.
            ts = dt.datetime(YEAR, 3, 10 + i, 12, tzinfo=TZ)
            t0 = time.perf_counter()
            ingestor.ingest_columns("big", [f"m{i:04d}"], [to_us(ts)], [1.0e9 + i])
            stale = accountant.recalculate_stale("big")
            recalc.append(time.perf_counter() - t0)
            assert [(r.source_id, r.period) for r in stale.computed] == [
                ("power-000", f"{YEAR}-03")
            ], [(r.source_id, r.period) for r in stale.computed]
            bare.append(bare_baseline(store))
        store.close()
    figures = {
        "benchmark": "accounting",
        "points": METERS + 2,
        "sources": AREAS + 2,
        "source_months": 12 * (AREAS + 2),
        "rollup_rows_generated": rollup_rows,
        "repeat": args.repeat,
        "annual_s": round(statistics.median(annual), 4),
        "annual_unchanged_s": round(statistics.median(unchanged), 4),
        "recalc_month_ms": round(statistics.median(recalc) * 1000, 2),
        "bare_sql_s": round(statistics.median(bare), 4),
        "annual_vs_bare": round(statistics.median(annual) / statistics.median(bare), 1),
        "targets": {"annual_s": 2.0, "recalc_month_ms": 200},
    }
    sys.stdout.write(json.dumps(figures) + "\n")


if __name__ == "__main__":
    main()
