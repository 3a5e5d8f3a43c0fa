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
from pathlib import Path
from typing import Any

import pytest

from tansuan.accounting import results
from tansuan.accounting.periods import parse_period
from tansuan.errors import InputError
from tansuan.ingest.ingestor import Ingestor
from tansuan.ingest.reading import Reading
from tansuan.platform import open_platform
from tansuan.settings import Settings
from tansuan.site.model import SiteModel
from tansuan.site.validate import load
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


# --- declared replacements ------------------------------------------------------------
#: The old meter reads good(i) up to reading 19 (100,950 at 19 h); it is replaced at
#: 19 h 30 min, reading 100,975 then; the new meter starts at 0 and reads
#: 25 + 50 (i − 20) from reading 20 (25 at 20 h, 50 kWh per hour as before).
REPLACED_AT = T0 + dt.timedelta(hours=19, minutes=30)
REPLACED_US = int(REPLACED_AT.timestamp() * 1_000_000)


def replaced_series() -> dict[int, float]:
    return {i: good(i) if i < 20 else 25.0 + 50.0 * (i - 20) for i in range(48)}


def test_replacement_declared_afterwards_restores_the_lost_interval(meters: Store) -> None:
    """Undeclared, reading 20 (25) continues from the new level: a reset, its interval
    counts 0 — 950 + 27 × 50 = 2,300 kWh. Declared (final 100,975, initial 0): the old
    meter's (19 h, 19.5 h] counts 100,975 − 100,950 = 25, the new meter's (19.5 h, 20 h]
    counts 25 − 0 = 25: 950 + 25 + 25 + 1,350 = 2,350 kWh, and no reset is flagged."""
    send(meters, "energy", replaced_series())
    assert total(meters, "energy") == pytest.approx(2300.0)
    assert [f[:2] for f in flags(meters, "energy")] == [(20, "reset")]
    Ingestor(meters).replace_meter(
        "site", "energy", REPLACED_US, 100_975.0, 0.0, "meter swapped, work order 7"
    )
    assert total(meters, "energy") == pytest.approx(TRUE_TOTAL)
    assert flags(meters, "energy") == []
    with meters.read() as connection:
        report = site_quality(connection, "site", dt.date(2026, 10, 2))
    [shown] = [f for f in report["counter_flags"] if f["kind"] == "replacement"]
    assert shown["point"] == "energy" and "work order 7" in shown["detail"]


def test_replacement_declared_before_the_new_readings(meters: Store) -> None:
    """The same declaration made between the old meter's readings and the new one's: the
    new readings count from the initial reading — 2,350 kWh."""
    values = replaced_series()
    ingestor = Ingestor(meters)
    ingestor.ingest(
        [Reading("site", "energy", T0 + dt.timedelta(hours=i), values[i]) for i in range(20)]
    )
    ingestor.replace_meter("site", "energy", REPLACED_US, 100_975.0, 0.0, "swap")
    ingestor.ingest(
        [Reading("site", "energy", T0 + dt.timedelta(hours=i), values[i]) for i in range(20, 48)]
    )
    assert total(meters, "energy") == pytest.approx(TRUE_TOTAL)
    assert flags(meters, "energy") == []


def test_bad_replacement_is_refused_and_changes_nothing(meters: Store) -> None:
    """A final reading below the old meter's last reading (100,900 < 100,950), a point
    that does not exist and an empty reason are refused; the total stays 2,300."""
    send(meters, "energy", replaced_series())
    ingestor = Ingestor(meters)
    with pytest.raises(InputError, match="below the old meter's reading 100950"):
        ingestor.replace_meter("site", "energy", REPLACED_US, 100_900.0, 0.0, "swap")
    with pytest.raises(InputError, match="no point 'nowhere'"):
        ingestor.replace_meter("site", "nowhere", REPLACED_US, 100_975.0, 0.0, "swap")
    with pytest.raises(InputError, match="reason"):
        ingestor.replace_meter("site", "energy", REPLACED_US, 100_975.0, 0.0, "  ")
    ingestor.replace_meter("site", "energy", REPLACED_US, 100_975.0, 0.0, "swap")
    with pytest.raises(InputError, match="already declared"):
        ingestor.replace_meter("site", "energy", REPLACED_US, 100_975.0, 0.0, "again")
    with meters.read() as connection:
        count = connection.exec_driver_sql("SELECT count(*) FROM meter_replacement").scalar()
    assert count == 1
    assert total(meters, "energy") == pytest.approx(TRUE_TOTAL)


def test_replace_meter_command_logs_and_marks_stale(
    db_url: str, tmp_path: Path, examples: Path
) -> None:
    """`tansuan replace-meter` through the platform: a `meter_replacement` ledger leaf and
    the month it touches (2024-03, already computed) marked stale. Readings 1,000, 1,100,
    1,200 at 00:00–02:00 UTC; replaced at 01:30 (final 1,150, initial 0)."""
    settings = Settings(data_dir=tmp_path / "var", database_url=db_url)
    store = Store(db_url)
    store.load_model(load(examples / "site.yaml"))
    store.close()
    platform = open_platform(settings)
    try:
        assert platform.accountant is not None
        t0 = dt.datetime(2024, 3, 10, 0, tzinfo=dt.UTC)
        platform.sink(
            [
                Reading("demo-site", "grid.energy", t0 + dt.timedelta(hours=h), 1000.0 + 100 * h)
                for h in range(3)
            ]
        )
        platform.accountant.run("demo-site", parse_period("2024-03"), sources=["grid-power"])
        at_us = int((t0 + dt.timedelta(hours=1, minutes=30)).timestamp() * 1_000_000)
        payload = platform.replace_meter(
            "demo-site", "grid.energy", at_us, 1150.0, 0.0, "swap", by="tester"
        )
        assert payload["unit"] == "kWh"
        with platform.store.read() as conn:
            kinds = [r[0] for r in conn.exec_driver_sql("SELECT kind FROM ledger_leaves")]
            stale = results.stale(conn, "demo-site")
        assert kinds[-1] == "meter_replacement"
        assert [(s, p) for s, p, _ in stale] == [("grid-power", "2024-03")]
    finally:
        platform.close()


def test_replace_meter_cli(
    db_url: str, tmp_path: Path, examples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`tansuan replace-meter` stores a good declaration (exit 0, bilingual message) and
    refuses a final reading below the old meter's last one (1,100 kWh at 01:00 UTC) with
    a non-zero exit (2, as every refused input), the reason on screen and nothing stored."""
    from typer.testing import CliRunner

    from tansuan.cli import app
    from tansuan.settings import get_settings

    monkeypatch.setenv("TANSUAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TANSUAN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        assert runner.invoke(app, ["site", "load", str(examples / "site.yaml")]).exit_code == 0
        store = Store(db_url)
        t0 = dt.datetime(2024, 3, 10, 0, tzinfo=dt.UTC)
        Ingestor(store).ingest(
            [
                Reading("demo-site", "grid.energy", t0 + dt.timedelta(hours=h), 1000.0 + 100 * h)
                for h in range(3)
            ]
        )
        store.close()
        base = ["replace-meter", "grid.energy", "--site", "demo-site", "--initial", "0"]
        bad = runner.invoke(
            app, [*base, "--at", "2024-03-10T01:30:00Z", "--final", "1000", "--reason", "swap"]
        )
        assert bad.exit_code == 2  # the CLI's code for a refused input
        assert "below the old meter's reading 1100" in " ".join(bad.output.split())
        good_run = runner.invoke(
            app, [*base, "--at", "2024-03-10T01:30:00Z", "--final", "1150", "--reason", "swap"]
        )
        assert good_run.exit_code == 0, good_run.output
        assert "换表已登记 / meter replacement recorded" in good_run.output
        store = Store(db_url)
        with store.read() as connection:
            rows = connection.exec_driver_sql(
                "SELECT final, initial, reason FROM meter_replacement"
            ).all()
        store.close()
        assert [tuple(r) for r in rows] == [(1150.0, 0.0, "swap")]
    finally:
        get_settings.cache_clear()
