"""No phantom energy: one bad counter reading is a glitch or a spike, not a reset.

The series of every test: 48 hourly readings of a kWh register, ``100,000 + 50 i`` at
``T0 + i h`` (i = 0 … 47). Its true consumption is 47 intervals × 50 kWh = 2,350 kWh.
Taking a single bad reading for a meter reset used to give 103,300 kWh (a zero) or
12,300 kWh (a dip or a spike).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from tansuan.ingest.ingestor import Ingestor
from tansuan.ingest.reading import Reading
from tansuan.site.model import SiteModel
from tansuan.store import Store
from tansuan.store.queries import series
from tansuan.views.quality import site_quality
from tests.conftest import site_document

T0 = dt.datetime(2026, 10, 1, 0, 0, tzinfo=dt.UTC)
TRUE_TOTAL = 2350.0
POINTS: list[dict[str, object]] = [
    # no limit, no wrap
    {"id": "energy", "quantity": "energy", "unit": "kWh", "kind": "total_increasing",
     "interval_s": 3600},
    # a configured plausibility limit: at most 500 kWh per hour
    {"id": "limited", "quantity": "energy", "unit": "kWh", "kind": "total_increasing",
     "interval_s": 3600, "max_per_hour": 500},
    # on device dev-2, rated 200 kW: at most 200 kWh per hour
    {"id": "b.rated", "quantity": "energy", "unit": "kWh", "kind": "total_increasing",
     "interval_s": 3600},
]  # fmt: skip


def good(i: int) -> float:
    return 100_000.0 + 50.0 * i


@pytest.fixture
def meters(db_url: str) -> Iterator[Store]:
    document: dict[str, Any] = copy.deepcopy(site_document(POINTS))
    site = document["organisation"]["companies"][0]["sites"][0]
    site["areas"][0]["devices"][0]["rated_power_kw"] = 200
    store = Store(db_url)
    store.load_model(SiteModel.model_validate(document), source="test")
    yield store
    store.close()


def send(store: Store, point: str, values: dict[int, float]) -> None:
    Ingestor(store).ingest(
        [Reading("site", point, T0 + dt.timedelta(hours=i), v) for i, v in sorted(values.items())]
    )


def total(store: Store, point: str) -> float:
    with store.read() as connection:
        days = series(connection, "site", point, T0, T0 + dt.timedelta(days=3), "day")
    return sum(d["delta"] or 0.0 for d in days)


def flags(store: Store, point: str) -> list[tuple[int, str, str]]:
    """(reading index, kind, detail) of the point's counter flags."""
    with store.read() as connection:
        rows = connection.exec_driver_sql(
            "SELECT f.ts_us, f.kind, f.detail FROM counter_flag f "
            "JOIN point p ON p.id = f.point_id WHERE p.key = "
            + ("%s" if store.engine.dialect.name == "postgresql" else "?")
            + " ORDER BY f.ts_us",
            (point,),
        ).all()
    t0 = int(T0.timestamp() * 1_000_000)
    return [((int(r[0]) - t0) // 3_600_000_000, str(r[1]), str(r[2])) for r in rows]


def series_with(bad: dict[int, float]) -> dict[int, float]:
    return {i: bad.get(i, good(i)) for i in range(48)}


def test_clean_series_is_the_true_total(meters: Store) -> None:
    """47 intervals × 50 kWh = 2,350 kWh; nothing flagged."""
    send(meters, "energy", series_with({}))
    assert total(meters, "energy") == pytest.approx(TRUE_TOTAL)
    assert flags(meters, "energy") == []


def test_single_zero_is_a_glitch(meters: Store) -> None:
    """Reading 20 reads 0 between 100,950 (19) and 101,050 (21): the next reading returns
    to the level, so 0 is a glitch; reading 21 counts 101,050 − 100,950 = 100 kWh over
    (19 h, 21 h]. Total 2,350 kWh (was 103,300 kWh: 0 taken for a reset, then
    101,050 − 0 counted again)."""
    send(meters, "energy", series_with({20: 0.0}))
    assert total(meters, "energy") == pytest.approx(TRUE_TOTAL)
    [(index, kind, detail)] = flags(meters, "energy")
    assert (index, kind) == (20, "glitch")
    assert "100950" in detail and "not a reset" in detail


def test_dip_is_a_glitch(meters: Store) -> None:
    """Reading 20 dips by 10,000 kWh to 91,000; reading 21 (101,050) is back above the
    level 100,950: a glitch. Total 2,350 kWh (was 12,300)."""
    send(meters, "energy", series_with({20: good(20) - 10_000.0}))
    assert total(meters, "energy") == pytest.approx(TRUE_TOTAL)
    assert [f[:2] for f in flags(meters, "energy")] == [(20, "glitch")]


def test_spike_over_the_configured_limit(meters: Store) -> None:
    """'limited' allows 500 kWh/h. Reading 20 jumps to 111,000: +10,050 kWh in one hour
    > 500: a spike, no consumption; reading 21 counts from the level 100,950: 100 kWh
    over 2 h ≤ 1,000. Total 2,350 kWh."""
    send(meters, "limited", series_with({20: good(20) + 10_000.0}))
    assert total(meters, "limited") == pytest.approx(TRUE_TOTAL)
    [(index, kind, detail)] = flags(meters, "limited")
    assert (index, kind) == (20, "spike")
    assert "111000" in detail


def test_spike_over_the_rated_power(meters: Store) -> None:
    """'b.rated' sits on a device rated 200 kW: at most 200 kWh per hour. Reading 20 at
    100,000 + 1,000 + 400 = 101,400 is +450 kWh in an hour > 200: a spike. Total 2,350."""
    send(meters, "b.rated", series_with({20: good(20) + 400.0}))
    assert total(meters, "b.rated") == pytest.approx(TRUE_TOTAL)
    assert [f[:2] for f in flags(meters, "b.rated")] == [(20, "spike")]


def test_spike_without_a_limit_is_found_when_the_series_returns(meters: Store) -> None:
    """'energy' has no limit. Reading 20 jumps to 111,000 (+10,050 accepted at first);
    reading 21 (101,050) is lower, reading 22 (101,100) continues from it and 101,050 is
    above the reading before the jump (100,950): reading 20 was a spike, withdrawn; 21
    counts 100 kWh from 19. Total 2,350 kWh (was 12,300)."""
    send(meters, "energy", series_with({20: good(20) + 10_000.0}))
    assert total(meters, "energy") == pytest.approx(TRUE_TOTAL)
    assert [f[:2] for f in flags(meters, "energy")] == [(20, "spike")]


def test_true_reset_continues_from_the_new_level(meters: Store) -> None:
    """The register restarts at reading 20: values 50 × (i − 20) from i = 20 (0, 50, …).
    Reading 21 (50) continues from the new level: a reset. Readings 1–19 count 19 × 50 =
    950 kWh, the reset interval (19 h, 20 h] counts 0 (never invented), readings 21–47
    count 27 × 50 = 1,350 kWh: 2,300 kWh."""
    send(meters, "energy", series_with({i: 50.0 * (i - 20) for i in range(20, 48)}))
    assert total(meters, "energy") == pytest.approx(2300.0)
    [(index, kind, detail)] = flags(meters, "energy")
    assert (index, kind) == (20, "reset")
    assert "counts 0" in detail


def test_a_drop_waits_for_the_next_reading(meters: Store) -> None:
    """Readings 0–20 arrive with 0 at reading 20: nothing yet says glitch or reset, so 20
    is pending and counts nothing: 19 × 50 = 950 kWh. Readings 21–47 arrive: 21 is back
    above the level, 20 becomes a glitch and the total is 2,350 kWh."""
    values = series_with({20: 0.0})
    send(meters, "energy", {i: values[i] for i in range(21)})
    assert total(meters, "energy") == pytest.approx(950.0)
    assert [f[:2] for f in flags(meters, "energy")] == [(20, "pending")]
    send(meters, "energy", {i: values[i] for i in range(21, 48)})
    assert total(meters, "energy") == pytest.approx(TRUE_TOTAL)
    assert [f[:2] for f in flags(meters, "energy")] == [(20, "glitch")]


def test_glitch_sent_reading_by_reading(meters: Store) -> None:
    """The zero series sent one reading per batch (how a gateway sends): the same
    2,350 kWh and one glitch flag."""
    for i, value in series_with({20: 0.0}).items():
        send(meters, "energy", {i: value})
    assert total(meters, "energy") == pytest.approx(TRUE_TOTAL)
    assert [f[:2] for f in flags(meters, "energy")] == [(20, "glitch")]


def test_flags_are_on_the_quality_page_data(meters: Store) -> None:
    """The quality view lists each flag with its point, kind and reason."""
    send(meters, "energy", series_with({20: 0.0}))
    send(meters, "limited", series_with({30: good(30) + 10_000.0}))
    with meters.read() as connection:
        report = site_quality(connection, "site", dt.date(2026, 10, 2))
    shown = {(f["point"], f["kind"]) for f in report["counter_flags"]}
    assert shown == {("energy", "glitch"), ("limited", "spike")}
    assert all(f["detail"] and f["ts"] for f in report["counter_flags"])
