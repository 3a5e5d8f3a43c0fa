"""Coverage and staleness on the data-quality page for every kind of point.

The site's clock is frozen at 2026-11-18 10:50 (Asia/Shanghai): 10 h 50 min = 39,000 s of
the day have passed. Readings run from 48 h before (the cadence window) up to now.

* ``power`` (instantaneous, declared every 900 s) arrives as hourly uploads, at every full
  hour: today 00:00 … 10:00 are 11 readings. At the hourly cadence 39,000 / 3,600 = 10.83
  are expected: coverage 100 % (capped), and the last reading (10:00, 50 min ago) is well
  within 3 × 1 h: not stale. Judged at the declared 900 s it read 11 / 43.3 = 25 % and went
  stale 45 min after every hour (the page flipping every hour).
* ``energy`` (a kWh counter, declared every 60 s) is polled every 10 s: 6 readings per
  expected one. Coverage counts at most one reading per 60 s slot: 100 %, never 600 %.
* ``meter`` (a kWh counter every 900 s) has an outage from 02:00 to 04:00 today: hours
  0, 1 and 4 … 9 hold 4 readings each (32), hour 10 holds 10:00, 10:15, 10:30, 10:45 (4):
  36 of 39,000 / 900 = 43.33 expected = 83.1 %; the outage does not change its cadence.
* ``b.power`` (every 60 s) stopped at 05:59: 360 readings of 650 expected = 55.4 % and
  stale (4 h 51 min > 3 min).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tansuan.gateways.base import Counters
from tansuan.ingest.ingestor import Ingestor
from tansuan.ingest.reading import Reading
from tansuan.services import gateway_status
from tansuan.site.model import SiteModel
from tansuan.store import Store
from tansuan.views import quality
from tests.conftest import site_document

ZONE = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 18, 10, 50, tzinfo=ZONE)
DAY = dt.datetime(2026, 11, 18, tzinfo=ZONE)
POINTS: list[dict[str, object]] = [
    {"id": "power", "quantity": "power", "unit": "kW", "interval_s": 900},
    {"id": "energy", "quantity": "energy", "unit": "kWh", "kind": "total_increasing",
     "interval_s": 60},
    {"id": "meter", "quantity": "energy", "unit": "kWh", "kind": "total_increasing",
     "interval_s": 900},
    {"id": "b.power", "quantity": "power", "unit": "kW", "interval_s": 60},
]  # fmt: skip


def every(step_s: int, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Time stamps from ``start`` to ``end`` inclusive, ``step_s`` apart."""
    out, t = [], start
    while t <= end:
        out.append(t)
        t += dt.timedelta(seconds=step_s)
    return out


@pytest.fixture
def site(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("TANSUAN_NOW", NOW.isoformat())
    document: dict[str, Any] = copy.deepcopy(site_document(POINTS))
    store = Store(db_url)
    store.load_model(SiteModel.model_validate(document), source="test")
    first = NOW - dt.timedelta(hours=48)
    ingest = Ingestor(store).ingest
    hourly = every(3600, first.replace(minute=0), NOW)
    ingest([Reading("site", "power", t, 5.0) for t in hourly])
    fast = every(10, NOW - dt.timedelta(hours=12), NOW)
    ingest([Reading("site", "energy", t, 1000.0 + i) for i, t in enumerate(fast)])
    outage = (DAY + dt.timedelta(hours=2), DAY + dt.timedelta(hours=4))
    quarter = [t for t in every(900, first.replace(minute=0), NOW)
               if not outage[0] <= t < outage[1]]  # fmt: skip
    ingest([Reading("site", "meter", t, 50.0 + i) for i, t in enumerate(quarter)])
    minutes = every(60, first, DAY + dt.timedelta(hours=5, minutes=59))
    ingest([Reading("site", "b.power", t, 2.0) for t in minutes])
    yield store
    store.close()


def rows(store: Store) -> dict[str, dict[str, Any]]:
    with store.read() as connection:
        report = quality.site_quality(connection, "site")
    return {row["point"]: row | {"_stale": report["stale"]} for row in report["points"]}


def test_hourly_uploads_are_covered_and_not_stale(site: Store) -> None:
    power = rows(site)["power"]
    assert power["received"] == 11
    assert power["expected"] == pytest.approx(10.8)
    assert power["coverage"] == pytest.approx(1.0)
    assert power["stale"] is False
    assert power["cadence_s"] == 3600


def test_a_fast_polled_counter_is_at_most_100_percent(site: Store) -> None:
    energy = rows(site)["energy"]
    assert energy["received"] > 6 * energy["expected"]
    assert energy["coverage"] == pytest.approx(1.0)
    assert energy["cadence_s"] == 60


def test_an_outage_lowers_coverage_at_the_declared_cadence(site: Store) -> None:
    meter = rows(site)["meter"]
    assert meter["coverage"] == pytest.approx(36 / (39_000 / 900))
    assert meter["cadence_s"] == 900


def test_a_point_that_stopped_is_stale_and_only_it(site: Store) -> None:
    got = rows(site)
    assert got["b.power"]["stale"] is True
    assert got["b.power"]["coverage"] == pytest.approx(360 / 650)
    assert got["b.power"]["_stale"] == 1


def test_cadence_ignores_an_outage_and_follows_sparse_data() -> None:
    hour = 3_600_000_000
    # 4 readings an hour with a 6-hour hole: the declared 900 s.
    assert quality.cadence_s(900, [(h * hour, 4) for h in range(24) if not 6 <= h < 12]) == 900
    # one reading every 2 hours, declared 60 s: 7,200 s.
    assert quality.cadence_s(60, [(h * hour, 1) for h in range(0, 48, 2)]) == 7200
    # a daily point reads as declared
    assert quality.cadence_s(86_400, [(0, 1), (24 * hour, 1)]) == 86_400


def test_gateway_last_reading_is_when_it_last_delivered() -> None:
    """A gateway that delivered readings shows when (not "—" beside "connected")."""
    at = dt.datetime(2026, 11, 18, 2, 49, 30, tzinfo=dt.UTC)
    counters = Counters(now=at.timestamp)
    counters.inc("tansuan_modbus_readings_total", 8, connection="site/meter-bus")
    counters.inc("tansuan_modbus_errors_total", 0, connection="site/boiler")
    (row,) = [g for g in gateway_status(counters) if g["name"] == "site/meter-bus"]
    assert row["connected"] is True
    assert row["last_seen"] == at.isoformat()
    (idle,) = [g for g in gateway_status(counters) if g["name"] == "site/boiler"]
    assert idle["last_seen"] is None
