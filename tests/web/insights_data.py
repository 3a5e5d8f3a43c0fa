"""Planted truth for the analytics API, pages and alerts (on top of tests/web/demo.py).

* **Off-shift running** — ``fan-001.power`` hourly over 14 days from Monday 2025-03-03
  (local time): 40 kW in the shift (Mon–Fri 08–18), 20 kW at 22:00 and 23:00 every day,
  0 otherwise. Off-shift waste = 14 d × 2 h × 20 kWh = 560 kWh over 336 h, i.e.
  560 × 8760 / 336 = 14 600 kWh a year; at 0.8 /kWh and 0.5 tCO2/MWh: 11 680 a year and
  7.3 tCO2e a year.
* **A 30 % saving** — ``fan-001.energy`` (a kWh counter) read hourly from 2025-05-01 to
  2025-08-29: 1000 kWh a day × (1 + 0.03·sin(1.7·day)) before 2025-07-01, 700 kWh a day
  × the same factor from then on.
* **Monthly emissions** — current results of source ``boiler-oil`` for 2021-01 … 2024-06:
  1000 + 200·cos(2π(month − 1)/12) tCO2e + noise (normal, sd 5, seed 7). A year of the
  pattern sums to 12 000 t (the cosine terms cancel over 12 months).
* **Holdings** — the allowance account of ``demo-site`` for 2024 (imported from YAML):
  free allocation 10 000 t plus 500 t CEA bought; rules ccer_cap 5 %, shortfall_cap 20 %.
  With E ≈ 12 000 t, (E − A)/E ≈ 16.7 % < 20 %, so the obligation is E and the shortfall
  E − 10 500 ≈ 1 500 t.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from tansuan.accounting import results
from tansuan.accounting.results import ResultLine, ResultSet
from tansuan.store import Store

ZONE = ZoneInfo("Asia/Shanghai")
FINDINGS_FROM = dt.date(2025, 3, 3)
FINDINGS_DAYS = 14
SAVINGS_FROM = dt.date(2025, 5, 1)
INTERVENTION = dt.date(2025, 7, 1)
SAVINGS_TO = dt.date(2025, 8, 29)
HOLDINGS = """\
entity: demo-site
year: 2024
price: 80
allocation: 10000
trades:
  - {date: 2024-03-01, side: buy, instrument: CEA, quantity: 500, price: 60}
rules: {ccer_cap: 0.05, shortfall_cap: 0.2}
"""


def _us(when: dt.datetime) -> int:
    return int(when.timestamp() * 1_000_000)


def plant_findings(ingestor: Any) -> None:
    start = dt.datetime.combine(FINDINGS_FROM, dt.time(), ZONE)
    stamps, values = [], []
    for h in range(FINDINGS_DAYS * 24):
        t = start + dt.timedelta(hours=h)
        on_shift = t.weekday() < 5 and 8 <= t.hour < 18
        stamps.append(_us(t))
        values.append(40.0 if on_shift else 20.0 if t.hour >= 22 else 0.0)
    n = len(stamps)
    ts = np.array(stamps, dtype=np.int64)
    ingestor.ingest_columns(["demo-site"] * n, ["fan-001.power"] * n, ts, np.array(values),
                            source="test")  # fmt: skip


def plant_savings(ingestor: Any) -> None:
    start = dt.datetime.combine(SAVINGS_FROM, dt.time(), ZONE)
    days = (SAVINGS_TO - SAVINGS_FROM).days
    stamps, values, counter = [], [], 10_000.0
    for d in range(days):
        day = SAVINGS_FROM + dt.timedelta(days=d)
        daily = (1000.0 if day < INTERVENTION else 700.0) * (1 + 0.03 * math.sin(1.7 * d))
        for h in range(24):
            stamps.append(_us(start + dt.timedelta(days=d, hours=h)))
            values.append(counter)
            counter += daily / 24.0
    n = len(stamps)
    ts = np.array(stamps, dtype=np.int64)
    ingestor.ingest_columns(["demo-site"] * n, ["fan-001.energy"] * n, ts, np.array(values),
                            source="test")  # fmt: skip


def monthly_truth() -> dict[str, float]:
    rng = np.random.default_rng(7)
    out = {}
    for k in range(42):  # 2021-01 … 2024-06
        year, month = 2021 + k // 12, k % 12 + 1
        out[f"{year}-{month:02d}"] = (
            1000.0 + 200.0 * math.cos(2 * math.pi * (month - 1) / 12) + rng.normal(0, 5)
        )
    return out


def plant_emissions(store: Store) -> dict[str, float]:
    truth = monthly_truth()
    with store.write() as conn:
        for month, tonnes in truth.items():
            grams = int(round(tonnes * 1e6))
            results.save(conn, ResultSet(
                site_id="demo-site", source_id="boiler-oil", period=month, method="combustion",
                lines=(ResultLine("CO2", "1", grams, grams),), inputs={"planted": month},
                trace={}, grade="A", coverage=1.0, substituted_share=0.0,
            ))  # fmt: skip
    return truth


def plant_holdings(store: Store) -> None:
    import yaml

    from tansuan.market import accounts

    with store.write() as conn:
        accounts.import_file(conn, None, "demo-group", "demo-site", yaml.safe_load(HOLDINGS),
                             by="test", where="demo-site.yaml")  # fmt: skip


def plant_all(store: Store, ingestor: Any) -> dict[str, float]:
    plant_findings(ingestor)
    plant_savings(ingestor)
    plant_holdings(store)
    return plant_emissions(store)
