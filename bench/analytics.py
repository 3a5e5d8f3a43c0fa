"""Benchmark: analytics on a plant's worth of devices, against bare numpy.

Workload per repeat, for 200 devices: fit a daily regression baseline (365 days, 2 drivers),
run the CUSUM on 365 monitoring days, compute IPMVP savings with the G14 uncertainty, and
check a year of hourly data (8 760 h) for off-shift running; then one 60-month forecast
back-test of both models.

Figures (one JSON line): medians over ``--repeat`` runs of

* ``devices_s`` — the 200-device analysis above;
* ``bare_s`` — the bare baseline: ``np.linalg.lstsq`` on the same 200 baselines plus a
  ``np.cumsum`` of the residuals and one vectorised off-shift mask sum, i.e. the least
  numerical work any implementation must do; and ``ratio`` = devices_s / bare_s;
* ``backtest_ms`` — back-test of both forecast models on 60 months (h = 12).

Usage: ``python bench/analytics.py [--repeat 5]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time

import numpy as np

from tansuan.analytics.baseline import fit_baseline
from tansuan.analytics.cusum import cusum, degradation
from tansuan.analytics.findings import ShiftCalendar, off_shift
from tansuan.analytics.forecast import best_model
from tansuan.analytics.savings import avoided_energy

DEVICES = 200
CAL = ShiftCalendar.parse({"mon-fri": "08-18"})
HOURS = [dt.datetime(2025, 1, 1) + dt.timedelta(hours=h) for h in range(8760)]


def _data(rng: np.random.Generator) -> list[tuple[np.ndarray, ...]]:
    out = []
    for _ in range(DEVICES):
        prod = rng.uniform(50, 150, 730)
        hdd = np.maximum(18 - (15 + 12 * np.sin(np.arange(730) * 2 * np.pi / 365)), 0)
        energy = 300 + 2 * prod + 10 * hdd + rng.normal(0, 10, 730)
        hourly = rng.uniform(0, 30, 8760)
        out.append((energy, prod, hdd, hourly))
    return out


def _analyse(data: list[tuple[np.ndarray, ...]]) -> None:
    for energy, prod, hdd, hourly in data:
        base = fit_baseline(energy[:365], {"p": prod[:365], "h": hdd[:365]})
        rep = {"p": prod[365:], "h": hdd[365:]}
        degradation(cusum(energy[365:], base.predict(rep), base.rmse))
        avoided_energy(base, energy[365:], rep)
        off_shift("d", HOURS, hourly, CAL)


def _bare(data: list[tuple[np.ndarray, ...]]) -> None:
    on = np.array([t.weekday() < 5 and 8 <= t.hour < 18 for t in HOURS])
    for energy, prod, hdd, hourly in data:
        x = np.column_stack([np.ones(365), prod[:365], hdd[:365]])
        beta, *_ = np.linalg.lstsq(x, energy[:365], rcond=None)
        xr = np.column_stack([np.ones(365), prod[365:], hdd[365:]])
        np.cumsum(energy[365:] - xr @ beta)
        float(hourly[~on].sum())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    data = _data(rng)
    t = np.arange(60)
    monthly = 1000 + 6 * t + 150 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 25, 60)
    dev, bare, bt = [], [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        _analyse(data)
        dev.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        _bare(data)
        bare.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        best_model(monthly)
        bt.append((time.perf_counter() - t0) * 1000)
    devices_s, bare_s = statistics.median(dev), statistics.median(bare)
    figures = {
        "bench": "analytics",
        "devices": DEVICES,
        "devices_s": round(devices_s, 3),
        "bare_s": round(bare_s, 4),
        "ratio": round(devices_s / bare_s, 1),
        "backtest_ms": round(statistics.median(bt), 1),
        "repeat": args.repeat,
    }
    sys.stdout.write(json.dumps(figures) + "\n")


if __name__ == "__main__":
    main()
