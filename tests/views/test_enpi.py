"""EnPIs per line and site from the store, with planted truth (hand calculations).

Site ``site`` (Asia/Shanghai), calendar Mon–Fri 08–18, 56 days from Monday 2025-01-06 to
Sunday 2025-03-02, reporting from Monday 2025-02-03. Hourly ``total`` energy points (each
reading is its hour's kWh):

* ``grid-meter`` (read by the purchased-electricity source): 100 kWh/h on weekdays
  (90 kWh/h from 2025-02-03), 50 kWh/h at weekends → 2 400 (2 160) and 1 200 kWh/day.
  The reporting days (Feb 3 – Mar 2) are 20 weekdays and 8 weekend days:
  normalised EnPI = (20·2160 + 8·1200) / (20·2400 + 8·1200) = 52 800 / 57 600 = 0.916 667.
  January (Jan 6–31: 20 weekdays, 6 weekend days) = 48 000 + 7 200 = 55 200 kWh; the window
  cuts January, so its kWh are not set against the month's whole 1 000 t. February:
  Feb 1–2 (weekend) 2 400 + Feb 3–28 (20 weekdays, 6 weekend days) 43 200 + 7 200
  = 52 800 kWh; 800 t → 66.0 kWh/t.
* line ``line-1``: its feeder meter (in the workshop, tagged ``feeds:line-1``) 20 kWh/h →
  480 kWh/day; a meter inside the line (15 kWh/h) and ``motor-1``'s own 10 kWh/h counter
  are submeters of it and must not be added; its output counter reads 2 t a day.
  January: 26 × 480 = 12 480 kWh over 52 t = 240 kWh/t; a steady line has a normalised
  EnPI of exactly 1.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from tansuan.analytics.findings import ShiftCalendar
from tansuan.errors import InputError
from tansuan.ingest import manual
from tansuan.platform import open_platform
from tansuan.settings import Settings
from tansuan.site.model import SiteModel
from tansuan.views.enpi import enpi_report

ZONE = ZoneInfo("Asia/Shanghai")
FIRST, DAYS, REPORTING = dt.date(2025, 1, 6), 56, dt.date(2025, 2, 3)


def _energy(point: str) -> dict[str, object]:
    return {"id": point, "quantity": "energy", "unit": "kWh", "kind": "total"}


MODEL = {
    "version": 1,
    "organisation": {"id": "org", "companies": [{"id": "co", "sites": [{
        "id": "site", "timezone": "Asia/Shanghai",
        "areas": [{"id": "shop", "kind": "workshop", "devices": [
            {"id": "grid-meter", "class": "meter", "points": [_energy("grid-meter.energy")]},
            {"id": "feeder", "class": "meter", "tags": ["feeds:line-1"],
             "points": [_energy("feeder.energy")]},
        ], "areas": [{"id": "line-1", "kind": "line", "devices": [
            {"id": "line-meter", "class": "meter", "points": [_energy("line-meter.energy")]},
            {"id": "motor-1", "class": "motor", "points": [
                _energy("motor-1.energy"),
                {"id": "motor-1.output", "quantity": "production", "unit": "t", "kind": "total"},
            ]},
        ]}]}],
        "series": [{"id": "output", "kind": "production", "unit": "t"}],
        "sources": [{"id": "grid-power", "method": "electricity", "scope": 2,
                     "device": "grid-meter", "activity": [{"point": "grid-meter.energy"}]}],
    }]}]},
}  # fmt: skip


def _grid(day: dt.date) -> float:
    if day.weekday() >= 5:
        return 50.0
    return 90.0 if day >= REPORTING else 100.0


@pytest.fixture
def report(db_url: str, tmp_path: Path) -> dict[str, Any]:
    model = SiteModel.model_validate(MODEL)
    platform = open_platform(Settings(data_dir=tmp_path / "var", database_url=db_url))
    try:
        platform.store.load_model(model, source="test")
        platform.ingestor.refresh()
        start = dt.datetime.combine(FIRST, dt.time(), ZONE)
        points, ts, values = [], [], []
        for d in range(DAYS):
            day = FIRST + dt.timedelta(days=d)
            for h in range(24):
                stamp = int((start + dt.timedelta(days=d, hours=h)).timestamp() * 1e6)
                for point, value in (("grid-meter.energy", _grid(day)), ("feeder.energy", 20.0),
                                     ("line-meter.energy", 15.0),
                                     ("motor-1.energy", 10.0)):  # fmt: skip
                    points.append(point)
                    ts.append(stamp)
                    values.append(value)
                if h == 12:
                    points.append("motor-1.output")
                    ts.append(stamp)
                    values.append(2.0)
        n = len(points)
        platform.ingestor.ingest_columns(["site"] * n, points, np.array(ts, dtype=np.int64),
                                         np.array(values), source="test")  # fmt: skip
        header = list(manual.COMMON)
        rows = [["site", "output", "2025-01-01", "2025-01-31", "1000", "t", "P-01"],
                ["site", "output", "2025-02-01", "2025-02-28", "800", "t", "P-02"]]  # fmt: skip
        manual.import_table(platform.store, [header, *rows], kind="production", source="test")
        calendar = ShiftCalendar.from_text("mon-fri=08-18")
        with platform.store.read() as conn:
            with pytest.raises(InputError, match="baseline_end"):
                enpi_report(conn, model.site("site"), FIRST, REPORTING, REPORTING, calendar)
            return enpi_report(conn, model.site("site"), FIRST, FIRST + dt.timedelta(days=DAYS),
                               REPORTING, calendar)  # fmt: skip
    finally:
        platform.close()


def test_site_enpis(report: dict[str, Any]) -> None:
    site = next(n for n in report["nodes"] if n["kind"] == "site")
    assert site["meters"] == ["grid-meter.energy"]
    assert site["normalised"] == pytest.approx(52_800 / 57_600, rel=1e-9)
    months = {m["month"]: m for m in site["months"]}
    assert months["2025-01"]["kwh"] == pytest.approx(55_200.0)
    assert months["2025-02"]["kwh"] == pytest.approx(52_800.0)
    assert months["2025-02"]["specific"] == pytest.approx(66.0)
    # January starts on the 6th in the window: part of its energy against all its output
    assert months["2025-01"]["partial"] and months["2025-01"]["specific"] is None
    assert not months["2025-02"]["partial"]
    assert months["2025-03"]["specific"] is None  # no production recorded for March
    assert site["output_unit"] == "t"


def test_line_enpis_count_the_feeder_not_the_submeter(report: dict[str, Any]) -> None:
    line = next(n for n in report["nodes"] if n["node"] == "line-1")
    assert line["meters"] == ["feeder.energy"]
    january = next(m for m in line["months"] if m["month"] == "2025-01")
    assert january["kwh"] == pytest.approx(12_480.0)
    assert january["output"] == pytest.approx(52.0)
    assert january["specific"] == pytest.approx(240.0)
    assert line["normalised"] == pytest.approx(1.0, abs=1e-9)
    assert [n["node"] for n in report["nodes"]] == ["site", "line-1"]
