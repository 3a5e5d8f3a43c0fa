"""The findings of a site with many devices (issue 18 item 9: 311 rows on one 16,760 px
page, 5.3–9.9 s for the demo's ~300 devices).

* The store is read in a fixed number of queries whatever the number of devices (it was
  three per device: hourly energy, daily energy, output), with the same findings.
* The page groups the findings by kind, totals them on top and shows 25 a page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import event

from tansuan.analytics.findings import ShiftCalendar, Valuation
from tansuan.ingest.ingestor import Ingestor
from tansuan.site.model import SiteModel
from tansuan.store import Store
from tansuan.views import findings
from tansuan.web.insights_pages import FINDINGS_PER_PAGE, findings_view

ZONE = ZoneInfo("Asia/Shanghai")
FIRST = dt.date(2025, 2, 3)  # a Monday
DAYS = 28
WINDOW = (dt.date(2025, 2, 17), dt.date(2025, 3, 3))


def _model(n: int) -> SiteModel:
    devices = []
    for i in range(n):
        points: list[dict[str, object]] = [
            {"id": f"fan-{i}.power", "quantity": "power", "unit": "kW", "interval_s": 3600}
        ]
        if i % 2:
            points.append({"id": f"fan-{i}.energy", "quantity": "energy", "unit": "kWh",
                           "kind": "total_increasing", "interval_s": 3600})  # fmt: skip
        devices.append({"id": f"fan-{i}", "class": "fan", "rated_power_kw": 20.0,
                        "points": points})  # fmt: skip
    return SiteModel.model_validate({"version": 1, "organisation": {"id": "org", "companies": [
        {"id": "co", "sites": [{"id": "site", "timezone": "Asia/Shanghai",
                                "areas": [{"id": "hall", "devices": devices}]}]}]}})  # fmt: skip


@pytest.fixture
def site(db_url: str) -> Any:
    """12 fans, hourly: 10 kW 08–18 on weekdays, 3 kW otherwise (off-shift running);
    fan-0 30 % higher (a peer outlier); the odd fans also have a kWh counter."""
    model = _model(12)
    store = Store(db_url)
    store.load_model(model, source="test")
    start = dt.datetime.combine(FIRST, dt.time(), ZONE)
    hours = np.arange(DAYS * 24)
    ts = (int(start.timestamp()) + hours * 3600).astype(np.int64) * 1_000_000
    working = ((hours // 24) % 7 < 5) & (hours % 24 >= 8) & (hours % 24 < 18)
    ingest = Ingestor(store).ingest_columns
    for i in range(12):
        kw = np.where(working, 10.0, 3.0) * (1.3 if i == 0 else 1.0 + 0.01 * i)
        ingest(["site"] * kw.size, [f"fan-{i}.power"] * kw.size, ts, kw, source="test")
        if i % 2:
            ingest(["site"] * kw.size, [f"fan-{i}.energy"] * kw.size, ts,
                   1000.0 + np.cumsum(kw), source="test")  # fmt: skip
    yield store, model.sites()[0]
    store.close()


def _report(store: Store, site_model: Any, **kwargs: Any) -> tuple[list[dict[str, Any]], int]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        with store.read() as conn:
            records = findings.findings_report(
                conn, site_model, *WINDOW, ShiftCalendar.from_text("mon-fri=08-18"),
                Valuation(0.7, 0.5, 80.0), baseline_days=14, evidence=True, fine=True, **kwargs,
            )  # fmt: skip
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    rollups = [s for s in statements if "rollup_" in s]
    return records, len(rollups)


def test_the_store_is_read_in_a_few_queries_whatever_the_devices(site: Any) -> None:
    store, site_model = site
    records, queries = _report(store, site_model)
    assert {r["kind"] for r in records} >= {"off_shift"}
    assert sum(r["kind"] == "off_shift" for r in records) == 12
    assert queries <= 4  # two per device made 24


def test_only_the_shown_finding_carries_its_evidence(site: Any) -> None:
    store, site_model = site
    records, _ = _report(store, site_model, evidence_of=2)
    assert [i for i, r in enumerate(records) if "evidence" in r] == [2]


def _record(kind: str, cost: float) -> dict[str, Any]:
    return {"kind": kind, "annual_kwh": cost * 2, "annual_tco2e": cost / 1000,
            "annual_cost": cost, "device": "d"}  # fmt: skip


def test_the_page_groups_totals_and_pages() -> None:
    """60 findings: 40 off_shift of 10 each, 15 idling of 100 each, 5 peer_outlier of 1 each.
    Totals: 400 + 1,500 + 5 = 1,905 per year; 40 off_shift findings are 2 pages of 25."""
    records = ([_record("off_shift", 10.0)] * 40 + [_record("idling", 100.0)] * 15
               + [_record("peer_outlier", 1.0)] * 5)  # fmt: skip
    view = findings_view(records, "", 1)
    assert view["total"]["annual_cost"] == pytest.approx(1905.0)
    assert view["total"]["count"] == 60
    assert [(g["kind"], g["count"], g["annual_cost"]) for g in view["groups"]] == [
        ("idling", 15, 1500.0),
        ("off_shift", 40, 400.0),
        ("peer_outlier", 5, 5.0),
    ]
    assert view["pages"] == 3 and len(view["rows"]) == FINDINGS_PER_PAGE == 25
    second = findings_view(records, "off_shift", 2)
    assert second["matching"] == 40 and second["pages"] == 2
    assert [i for i, _ in second["rows"]] == list(range(25, 40))  # ranks kept for "show"
    assert findings_view(records, "off_shift", 99)["page"] == 2
