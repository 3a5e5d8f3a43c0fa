"""A short backfill lands in a real store and the accounting engine computes from it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from tansuan.accounting.engine import Accountant
from tansuan.accounting.periods import parse_period
from tansuan.cli import app
from tansuan.platform import open_platform
from tansuan.settings import Settings, get_settings
from tansuan.site.model import SiteModel
from tansuan.store import queries
from tansuan.twin.faults import Fault
from tansuan.twin.history import backfill, load_state, state_path
from tansuan.twin.plant import TwinSpec

END = dt.date(2025, 6, 3)


def test_two_days_backfill_then_accounting(
    db_url: str, tmp_path: Path, mini_model: SiteModel
) -> None:
    settings = Settings(data_dir=tmp_path / "var", database_url=db_url)
    platform = open_platform(settings)
    try:
        report = backfill(platform, mini_model, TwinSpec(seed=9), days=2, end=END)
        # 2 days × 288 five-minute steps × 11 points
        assert report.rows_generated == 2 * 288 * 11
        assert report.rows_stored == report.rows_generated and report.rows_rejected == 0
        assert report.manual_rows == 2  # June's oil invoice and NCV
        with platform.store.read() as conn:
            rows = queries.series(
                conn, "mini", "stack-1.co2",
                dt.datetime(2025, 6, 2, tzinfo=dt.UTC), dt.datetime(2025, 6, 3, tzinfo=dt.UTC),
                "hour",
            )  # fmt: skip
        assert len(rows) == 24
        result = Accountant(platform.store, mini_model).run("mini", parse_period("2025-06"))
        assert not result.errors, result.errors
        co2e = {r.source_id: r.co2e_g for r in result.computed}
        assert set(co2e) == {"boiler-oil", "boiler-cems", "grid-power"}
        assert all(value > 0 for value in co2e.values()), co2e
        state = load_state(state_path(settings.data_dir, "mini"))
        assert state is not None and state["day"] == END.isoformat()
        # running it again stores nothing new: the same seed gives the same readings
        again = backfill(platform, mini_model, TwinSpec(seed=9), days=2, end=END)
        assert again.rows_stored == 0 and again.rows_rejected == 0
    finally:
        platform.close()


def test_backfill_with_faults_stores_what_the_plant_sent(
    tmp_path: Path, mini_model: SiteModel
) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    platform = open_platform(settings)
    start = int(dt.datetime(2025, 6, 3, 10, tzinfo=dt.UTC).timestamp() * 1_000_000)
    dropout = Fault("dropout", ("fan-1.power",), start, start + 3_600_000_000)
    try:
        report = backfill(platform, mini_model, TwinSpec(seed=9), days=1, end=END,
                          faults=[dropout])  # fmt: skip
        assert report.rows_stored == 288 * 11 - 12
    finally:
        platform.close()


def test_cli_backfill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANSUAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("TANSUAN_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app, ["twin", "backfill", "--site", "cement", "--days", "1", "--end", "2025-06-02"]
        )
        assert result.exit_code == 0, result.output
        assert "readings stored" in result.output
        again = CliRunner().invoke(
            app, ["twin", "backfill", "--site", "cement", "--days", "1", "--if-missing"]
        )
        assert again.exit_code == 0 and "skipped" in again.output
        bad = CliRunner().invoke(app, ["twin", "backfill", "--site", "nowhere", "--days", "1"])
        assert bad.exit_code == 2 and "nowhere" in bad.output
    finally:
        get_settings.cache_clear()


@pytest.mark.real_clock("the live twin runs at the real time and continues the backfill up to it")
def test_live_twin_runs_on_from_the_backfill_without_a_jump(
    tmp_path: Path, mini_model: SiteModel
) -> None:
    """After a backfill up to now (thinned to 15 min), the live twin's next register
    readings continue the stored ones: larger, by about one interval's energy."""
    import numpy as np

    from tansuan.twin.live import LiveTwin

    settings = Settings(data_dir=tmp_path / "var")
    platform = open_platform(settings)
    try:
        report = backfill(platform, mini_model, TwinSpec(seed=9), days=2, history_step_s=900)
        state = load_state(state_path(settings.data_dir, "mini"))
        assert state is not None and state["base_step_s"] == 300  # CEMS keep 5 minutes
        with platform.store.read() as conn:
            stored = queries.series(
                conn, "mini", "grid-meter.energy",
                dt.datetime.now(dt.UTC) - dt.timedelta(days=3), dt.datetime.now(dt.UTC), "raw",
            )  # fmt: skip
    finally:
        platform.close()
    values = np.array([float(r["value"]) for r in stored])
    step_kwh = float(np.median(np.diff(values)))
    twin = LiveTwin(
        mini_model.sites()[0], TwinSpec(seed=9), registers=state["registers"],
        day=dt.date.fromisoformat(state["day"]), sent_until_us=report.last_ts_us,
        step_s=state["base_step_s"],
    )  # fmt: skip
    frame = twin.due(report.last_ts_us + 40 * 60 * 1_000_000)
    new = frame.value[frame.point == "grid-meter.energy"]
    assert new.size >= 2
    assert 0 < new[0] - values[-1] < 3 * step_kwh


def test_a_month_of_twin_data_passes_the_accounting_cross_check(
    tmp_path: Path, mini_model: SiteModel
) -> None:
    """June 2025 backfilled: the combustion source (monthly invoices × NCV × CC × OF ×
    44/12) and the CEMS source (hourly means, HJ 212-2017 App. D) computed by the
    accounting engine from the store agree within the analysers' combined stated error
    (CO2 2.5 %, flow 3 %), and both grade A."""
    settings = Settings(data_dir=tmp_path / "var")
    platform = open_platform(settings)
    try:
        backfill(platform, mini_model, TwinSpec(seed=9), days=30, end=dt.date(2025, 6, 30))
        run = Accountant(platform.store, mini_model).run("mini", parse_period("2025-06"))
    finally:
        platform.close()
    by_source = {r.source_id: r for r in run.computed}
    fuel, cems = by_source["boiler-oil"], by_source["boiler-cems"]
    assert fuel.grade == cems.grade == "A"
    assert abs(cems.co2e_g / fuel.co2e_g - 1) <= 1.025 * 1.03 - 1


def test_older_days_are_thinned_and_the_accounted_points_are_not(
    tmp_path: Path, mini_model: SiteModel
) -> None:
    """3 days, the last 2 "recent": the oldest day keeps fan-1.power once (a 86 400 s
    step: one reading a day) against 24 hourly readings on a recent day; the grid meter
    (read by an emission source) keeps its 288 five-minute readings on every day."""
    settings = Settings(data_dir=tmp_path / "var", database_url=f"sqlite:///{tmp_path / 'db'}")
    platform = open_platform(settings)
    try:
        backfill(platform, mini_model, TwinSpec(seed=9), days=3, end=END,
                 history_step_s=3600, older_step_s=86_400, recent_days=2)  # fmt: skip
        with platform.store.read() as conn:

            def count(point: str, day: dt.date) -> int:
                lo = dt.datetime.combine(day, dt.time(), ZoneInfo(mini_model.sites()[0].timezone))
                rows = queries.series(conn, "mini", point, lo, lo + dt.timedelta(days=1), "raw")
                return len(rows)

            oldest, recent = END - dt.timedelta(days=2), END - dt.timedelta(days=1)
            assert count("fan-1.power", oldest) == 1
            assert count("fan-1.power", recent) == 24
            assert count("grid-meter.energy", oldest) == count("grid-meter.energy", recent) == 288
    finally:
        platform.close()
