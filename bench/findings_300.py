"""Server time of the findings for a site of 300 devices (the demo's size; issue 18 item 9).

A site of 300 fans (hourly power, a kWh counter on every third, the shipyard's shifts)
with 28 days of findings window and the 56-day degradation baseline before it (84 days,
hourly readings). Times, interleaved over ``--rounds`` rounds on one SQLite store:

* ``findings``: :func:`tansuan.views.findings.findings_report` for the window, with the
  evidence of the first finding (what the dashboard page computes);
* ``baseline``: the bare read of the same input — every hour rollup of the window and every
  day rollup of the baseline, one query each, no analysis.

Prints one JSON line with the medians and ``ratio`` = findings / baseline.

    .venv/bin/python bench/findings_300.py [--rounds 5] [--devices 300] [--store PATH]

Planting the 84 days (600,000 readings) takes most of a run (~45 s on the loaded 2-core
machine); ``--store PATH`` keeps the planted SQLite file there and reuses it next time.
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
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tansuan.analytics.findings import ShiftCalendar, Valuation  # noqa: E402
from tansuan.ingest.ingestor import Ingestor  # noqa: E402
from tansuan.site.model import SiteModel  # noqa: E402
from tansuan.store import Store, schema  # noqa: E402
from tansuan.views.findings import findings_report  # noqa: E402

ZONE = ZoneInfo("Asia/Shanghai")
FIRST = dt.date(2025, 1, 6)
DAYS = 84
WINDOW = (dt.date(2025, 3, 3), dt.date(2025, 3, 31))
CALENDAR = "mon=07-16,16-24;tue=07-16,16-24;wed=07-16,16-24;thu=07-16,16-24;fri=07-16,16-24"


def model(n: int) -> SiteModel:
    devices = []
    for i in range(n):
        points: list[dict[str, object]] = [
            {"id": f"fan-{i:03d}.power", "quantity": "power", "unit": "kW", "interval_s": 3600}
        ]
        if i % 3 == 0:
            points.append({"id": f"fan-{i:03d}.energy", "quantity": "energy", "unit": "kWh",
                           "kind": "total_increasing", "interval_s": 3600})  # fmt: skip
        devices.append({"id": f"fan-{i:03d}", "class": "fan", "rated_power_kw": 15.0,
                        "points": points})  # fmt: skip
    areas = [{"id": f"shop-{a}", "devices": devices[a::10]} for a in range(10)]
    return SiteModel.model_validate({
        "version": 1,
        "organisation": {"id": "org", "companies": [{"id": "co", "sites": [
            {"id": "site", "timezone": "Asia/Shanghai", "areas": areas}]}]},
    })  # fmt: skip


def plant(store: Store, n: int) -> None:
    """Hourly power: 10 kW in shifts, 2–4 kW off shift (the off-shift findings), a tenth of
    the fans 30 % higher (peer outliers); the counters integrate the power."""
    start = dt.datetime.combine(FIRST, dt.time(), ZONE)
    hours = np.arange(DAYS * 24)
    ts_us = (int(start.timestamp()) + hours * 3600).astype(np.int64) * 1_000_000
    local_h = hours % 24
    weekday = (hours // 24) % 7 < 5
    shift = weekday & (local_h >= 7)
    rng = np.random.default_rng(7)
    sites: list[str] = []
    points: list[str] = []
    stamps, values = [], []
    for i in range(n):
        kw = np.where(shift, 10.0, 2.0 + 2.0 * (i % 2)) * (1.3 if i % 10 == 0 else 1.0)
        kw = kw * (1 + 0.03 * rng.standard_normal(kw.size))
        series = [(f"fan-{i:03d}.power", kw)]
        if i % 3 == 0:
            series.append((f"fan-{i:03d}.energy", 1000.0 + np.cumsum(kw)))
        for key, v in series:
            sites += ["site"] * v.size
            points += [key] * v.size
            stamps.append(ts_us)
            values.append(v)
    Ingestor(store).ingest_columns(sites, points, np.concatenate(stamps),
                                   np.concatenate(values), source="bench")  # fmt: skip


def baseline(store: Store) -> int:
    h, d = schema.rollup_hour, schema.rollup_day
    lo = int(dt.datetime.combine(WINDOW[0], dt.time(), ZONE).timestamp()) * 1_000_000
    hi = int(dt.datetime.combine(WINDOW[1], dt.time(), ZONE).timestamp()) * 1_000_000
    with store.read() as conn:
        hours = conn.execute(select(h).where(h.c.hour_us >= lo, h.c.hour_us < hi)).all()
        days = conn.execute(select(d).where(d.c.day >= 20250106, d.c.day < 20250331)).all()
        conn.execute(select(func.count()).select_from(schema.point)).scalar()
    return len(hours) + len(days)


def findings(store: Store, site_model: SiteModel) -> int:
    with store.read() as conn:
        records = findings_report(
            conn, site_model.sites()[0], WINDOW[0], WINDOW[1], ShiftCalendar.from_text(CALENDAR),
            Valuation(0.7, 0.58, 80.0), baseline_days=56, evidence=True, fine=True, evidence_of=0,
        )  # fmt: skip
    return len(records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--devices", type=int, default=300)
    parser.add_argument("--store", type=Path, default=None, help="planted SQLite file to reuse")
    args = parser.parse_args()
    path = args.store or Path(tempfile.mkdtemp(prefix="tansuan-bench-findings-")) / "store.db"
    reuse = path.exists()
    store = Store(f"sqlite:///{path}")
    site_model = model(args.devices)
    started = time.perf_counter()
    if not reuse:
        store.load_model(site_model, source="bench")
        plant(store, args.devices)
    planted_s = 0.0 if reuse else time.perf_counter() - started
    times: dict[str, list[float]] = {"findings": [], "baseline": []}
    found = rows = 0
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        rows = baseline(store)
        times["baseline"].append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        found = findings(store, site_model)
        times["findings"].append((time.perf_counter() - t0) * 1000)
    store.close()
    out: dict[str, float | int] = {"devices": args.devices, "rounds": args.rounds,
                                   "findings": found, "baseline_rows": rows,
                                   "plant_s": round(planted_s, 1)}  # fmt: skip
    for name, values in times.items():
        out[f"{name}_ms_median"] = round(statistics.median(values), 1)
    out["ratio"] = round(out["findings_ms_median"] / out["baseline_ms_median"], 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
