"""A small two-tenant deployment built by code, for the web tests and screenshots.

* ``demo-group`` (examples/site.yaml): site ``demo-site``; users alice (admin),
  olga (operator); an hour of 1-minute fan power readings, a grid meter counting up, and
  accounting results for this month.
* ``other-group``: site ``other-site`` with one meter; user bob (admin).
* ``verify-co``: no sites; user vera (verifier) — sees only what a grant opens.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np

from tansuan.accounting.engine import Accountant
from tansuan.accounting.periods import parse_period
from tansuan.ingest.ingestor import Ingestor
from tansuan.site.model import SiteModel
from tansuan.site.validate import load
from tansuan.store import Store, users

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"
USERS = {
    "alice": ("demo-group", "admin"),
    "olga": ("demo-group", "operator"),
    "bob": ("other-group", "admin"),
    "vera": ("verify-co", "verifier"),
}

OTHER: dict[str, Any] = {
    "version": 1,
    "organisation": {
        "id": "other-group",
        "name": "Other Group",
        "companies": [
            {
                "id": "other-co",
                "sites": [
                    {
                        "id": "other-site",
                        "areas": [
                            {
                                "id": "other-shop",
                                "devices": [
                                    {
                                        "id": "other-meter",
                                        "class": "meter",
                                        "points": [
                                            {
                                                "id": "other.energy",
                                                "quantity": "energy",
                                                "unit": "kWh",
                                                "kind": "total_increasing",
                                            }
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


def build(store: Store, now: dt.datetime) -> dict[str, Any]:
    """Load both models, the users and an hour of readings ending at ``now``; run accounting."""
    model = load(ROOT / "examples" / "site.yaml")
    store.load_model(model, source="examples/site.yaml")
    store.load_model(SiteModel.model_validate(OTHER), source="test")
    with store.write() as connection:
        for name, (org, role) in USERS.items():
            users.add_user(connection, org=org, username=name, password=PASSWORD, role=role)
    ingestor = Ingestor(store)
    start = now.replace(second=0, microsecond=0) - dt.timedelta(minutes=60)
    stamps = [start + dt.timedelta(minutes=i) for i in range(60)]
    n = len(stamps)
    ts_us = np.array([int(s.timestamp() * 1_000_000) for s in stamps], dtype=np.int64)
    power = 40.0 + 5.0 * np.sin(np.arange(n) / 7.0)
    grid = 1000.0 + 12.5 * np.arange(n)  # kWh counter, +12.5 kWh a minute
    ingestor.ingest_columns(["demo-site"] * n, ["fan-001.power"] * n, ts_us, power, source="test")
    ingestor.ingest_columns(["demo-site"] * n, ["grid.energy"] * n, ts_us, grid, source="test")
    ingestor.ingest_columns(
        ["other-site"] * n, ["other.energy"] * n, ts_us, grid * 2, source="test"
    )
    # Last year's same month: one reading a day of the grid meter, for accounting results
    # (the shipped grid factors end in 2025).
    local = now.astimezone(dt.timezone(dt.timedelta(hours=8)))
    year_ago = local.replace(year=local.year - 1, day=1, hour=12, minute=0, second=0, microsecond=0)
    days = [year_ago + dt.timedelta(days=i) for i in range(28)]
    day_us = np.array([int(d.timestamp() * 1_000_000) for d in days], dtype=np.int64)
    counter = 100.0 + 2000.0 * np.arange(len(days))  # kWh
    ingestor.ingest_columns(["demo-site"] * len(days), ["grid.energy"] * len(days), day_us, counter,
                            source="test")  # fmt: skip
    month = year_ago.strftime("%Y-%m")
    report = Accountant(store, model).run("demo-site", parse_period(month), sources=["grid-power"])
    return {"month": month, "report": report, "ingestor": ingestor}
