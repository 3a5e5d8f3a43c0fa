"""Site findings from the store with planted truth: a degrading pump and a zone heated and
cooled at once, found and costed by ``views.findings.site_findings`` (what the dashboard, the
API and ``tansuan findings`` run).

Planted (hourly power, Asia/Shanghai, 12 weeks from Monday 2025-01-06 to Sunday
2025-03-30; the findings window is the last four weeks, 2025-03-03 … 2025-03-30, and the
baseline the eight weeks before it):

* ``pump-1``: 10 kW on weekdays, 6 kW at weekends, times (1 + 0.02·sin(1.7·d)) on day d;
  from Monday 2025-03-17 on, 15 % more. Its daily energy is 240 kWh on a weekday and
  144 kWh at a weekend; the shift is +36 and +21.6 kWh/d. Over the 14 days after the
  start (10 weekdays, 4 weekend days) the mean shift is (10·36 + 4·21.6)/14 = 31.89 kWh/d,
  so a year of it is 31.89 × 365 = 11 638 kWh (the sine term moves it by a few %).
* ``pump-2``: the same without the change (no degradation may be found).
* ``ahu-heat`` (tag ``hvac:heating``) 20 kW in local hours 6–9, ``ahu-cool`` (tag
  ``hvac:cooling``) 15 kW in hours 8–17, both in area ``hall``: heated and cooled at once
  in hours 8 and 9, 2 h a day, waste min(20, 15) = 15 kWh an hour. Over the 28-day window:
  28 × 2 × 15 = 840 kWh; a year: 840 × 8760 / (28 × 24) = 10 950 kWh.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from tansuan.analytics.findings import ShiftCalendar, Valuation
from tansuan.platform import open_platform
from tansuan.settings import Settings
from tansuan.site.model import SiteModel
from tansuan.views import findings

ZONE = ZoneInfo("Asia/Shanghai")
FIRST = dt.date(2025, 1, 6)
DAYS = 84
WINDOW = (dt.date(2025, 3, 3), dt.date(2025, 3, 31))
DEGRADES = dt.date(2025, 3, 17)


def _device(id_: str, cls: str, tags: list[str]) -> dict[str, object]:
    point = {"id": f"{id_}.power", "quantity": "power", "unit": "kW", "valid_range": [0, 100]}
    return {"id": id_, "class": cls, "tags": tags, "points": [point]}


MODEL = {
    "version": 1,
    "organisation": {"id": "org", "companies": [{"id": "co", "sites": [{
        "id": "site", "timezone": "Asia/Shanghai",
        "areas": [{"id": "hall", "devices": [
            _device("pump-1", "pump", []),
            _device("pump-2", "pump", []),
            _device("ahu-heat", "heater", ["hvac:heating"]),
            _device("ahu-cool", "chiller", ["hvac:cooling"]),
        ]}],
    }]}]},
}  # fmt: skip


def _power(device: str, day: int, hour: int) -> float:
    date = FIRST + dt.timedelta(days=day)
    if device.startswith("pump"):
        kw = (10.0 if date.weekday() < 5 else 6.0) * (1 + 0.02 * math.sin(1.7 * day))
        return kw * (1.15 if device == "pump-1" and date >= DEGRADES else 1.0)
    if device == "ahu-heat":
        return 20.0 if 6 <= hour <= 9 else 0.0
    return 15.0 if 8 <= hour <= 17 else 0.0


@pytest.fixture
def found(db_url: str, tmp_path: Path) -> dict[tuple[str, str], dict[str, object]]:
    model = SiteModel.model_validate(MODEL)
    platform = open_platform(Settings(data_dir=tmp_path / "var", database_url=db_url))
    try:
        platform.store.load_model(model, source="test")
        platform.ingestor.refresh()
        start = dt.datetime.combine(FIRST, dt.time(), ZONE)
        for device in ("pump-1", "pump-2", "ahu-heat", "ahu-cool"):
            hours = [(d, h) for d in range(DAYS) for h in range(24)]
            ts = np.array([int((start + dt.timedelta(days=d, hours=h)).timestamp() * 1e6)
                           for d, h in hours], dtype=np.int64)  # fmt: skip
            values = np.array([_power(device, d, h) for d, h in hours])
            n = len(hours)
            platform.ingestor.ingest_columns(["site"] * n, [f"{device}.power"] * n, ts, values,
                                             source="test")  # fmt: skip
        with platform.store.read() as conn:
            ranked, hourly = findings.site_findings(
                conn, model.site("site"), *WINDOW, ShiftCalendar.from_text("mon-sun=00-24"),
                Valuation(tariff=1.0, factor_t_per_mwh=0.5, carbon_price=0.0),
            )  # fmt: skip
        return {
            (c.finding.device, c.finding.kind): findings.finding_record(c, hourly) for c in ranked
        }
    finally:
        platform.close()


def test_a_degrading_pump_is_dated_and_costed(
    found: dict[tuple[str, str], dict[str, object]],
) -> None:
    record = found[("pump-1", "degradation")]
    start = dt.date.fromisoformat(str(record["start"]))
    assert abs((start - DEGRADES).days) <= 3
    assert record["annual_kwh"] == pytest.approx(11_638, rel=0.1)
    evidence = record["evidence"]
    assert isinstance(evidence, dict)
    assert evidence["days"][0] == "2025-03-03" and evidence["days"][-1] == "2025-03-30"
    assert evidence["cusum"][-1] > 0
    # the same pump without the change, and the steady air handlers, do not degrade
    assert ("pump-2", "degradation") not in found
    assert ("ahu-heat", "degradation") not in found and ("ahu-cool", "degradation") not in found


def test_a_zone_heated_and_cooled_at_once(
    found: dict[tuple[str, str], dict[str, object]],
) -> None:
    record = found[("hall", "simultaneous_heating_cooling")]
    assert record["waste_kwh"] == pytest.approx(840.0, rel=1e-6)
    assert record["annual_kwh"] == pytest.approx(10_950.0, rel=1e-6)
    assert len(record["flagged_hours"]) == 56  # type: ignore[arg-type]
    assert {h[-2:] for h in record["flagged_hours"]} == {"08", "09"}  # type: ignore[union-attr]
