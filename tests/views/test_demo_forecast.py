"""Forecasts beat the seasonal-naive baseline on the demo history.

The demo loads three years of the shipyard in whole months (``tansuan demo``: 1 095 days
back to the first of a month, days older than a year thinned, which leaves the points the
accounting reads untouched). Here the twin backfills 2022-11-01 … 2025-10-31 into a fresh
SQLite store, ``tansuan account`` computes the 36 months, and the monthly tCO2e are
back-tested by rolling origin against the demo plant's own calendar (Mon–Sat, closed
1–10 February and 1–7 October: ``demo.shift_calendar``).

What the twin plants: each month's production level is drawn afresh (σ 8 %), the
closures take about 8 working days out of February and ~6 out of October, and four months
before the end the fan control cuts the fans' energy by ~30 %. Repeating last year's
month (seasonal naive) carries last year's draw and calendar; the working-day regression
carries neither.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from typer.testing import CliRunner

from tansuan.analytics.findings import ShiftCalendar
from tansuan.analytics.forecast import backtest, calendar_drivers
from tansuan.cli import app
from tansuan.platform import Platform, open_platform
from tansuan.settings import Settings, get_settings
from tansuan.twin import demo
from tansuan.views import forecast


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    data = tmp_path_factory.mktemp("shipyard-3y")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TANSUAN_DATA_DIR", str(data))
        env.delenv("TANSUAN_DATABASE_URL", raising=False)
        get_settings.cache_clear()
        runner = CliRunner()
        made = runner.invoke(app, ["twin", "backfill", "--site", "shipyard", "--days", "1095",
                                   "--end", "2025-10-31", "--step", "86400"])  # fmt: skip
        assert made.exit_code == 0, made.output
        done = runner.invoke(
            app, ["account", "--site", "shipyard", "--period", "2022-11-01..2025-11-01", "--json"]
        )
        assert done.exit_code == 0, done.output
        opened = open_platform(get_settings())
        get_settings.cache_clear()
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def history(platform: Platform) -> dict[str, float]:
    with platform.store.read() as conn:
        return forecast.emission_history(conn, "shipyard", "2022-11", "2025-10")


def test_the_demo_history_is_three_whole_years(history: dict[str, float]) -> None:
    assert list(history)[0] == "2022-11" and list(history)[-1] == "2025-10"
    assert len(history) == 36
    assert all(v > 0 for v in history.values())


@pytest.mark.parametrize("h", [1, 3, 6, 12])
def test_calendar_regression_beats_seasonal_naive(history: dict[str, float], h: int) -> None:
    """At every horizon, over every rolling origin the history allows (36 − 24 − h + 1)."""
    y = np.array(list(history.values()))
    cal = ShiftCalendar.from_text(demo.shift_calendar("shipyard"))
    drivers = calendar_drivers(2022 * 12 + 10, len(y), cal.working_days)
    naive = backtest(y, "seasonal_naive", h=h, drivers=drivers)
    ours = backtest(y, "calendar_regression", h=h, drivers=drivers)
    assert naive.windows == ours.windows == 36 - 24 - h + 1
    assert ours.mae < naive.mae
    assert ours.mase < naive.mase


def test_the_forecast_page_picks_a_model_that_beats_seasonal_naive(
    history: dict[str, float],
) -> None:
    """What the dashboard shows for 2025 with the demo's calendar."""
    cal = ShiftCalendar.from_text(demo.shift_calendar("shipyard"))
    report = forecast.forecast_report(history, 2025, working_days=cal.working_days)
    mae = {b["model"]: b["mae"] for b in report["backtest"]}
    assert report["model"] != "seasonal_naive"
    assert mae[report["model"]] < mae["seasonal_naive"]
    assert report["drivers"] == ["working_days"]
    assert [f["month"] for f in report["forecast"]][:2] == ["2025-11", "2025-12"]
    assert report["year_total"]["months_actual"] == 10


def test_the_production_plan_joins_the_calendar(
    platform: Platform, history: dict[str, float]
) -> None:
    """The twin writes the shipyard's plan (series ``steel-plan``: shift hours × 18 t per
    shift hour, 2025-10 … 2026-12) beside the recorded production (``steel-processed``).
    With the recorded production standing in for the plan over the history (an ex-post
    test), production and working days beat seasonal naive by a wider margin than the
    calendar alone, at every horizon."""
    site = demo.site("shipyard")
    months = list(history)
    cal = ShiftCalendar.from_text(demo.shift_calendar("shipyard"))
    with platform.store.read() as conn:
        planned = forecast.plan_drivers(conn, site, months, ["2025-11", "2025-12"])
        assert planned is not None
        assert forecast.plan_drivers(conn, site, months, ["2027-01"]) is None  # not planned
        report = forecast.forecast_report(
            history, 2025, working_days=cal.working_days,
            plan=lambda m, f: forecast.plan_drivers(conn, site, m, f),
        )  # fmt: skip
    assert report["drivers"] == ["production", "working_days"]
    assert len(report["forecast"]) == 14  # 2025-11 … 2026-12, all planned
    # The fan control from 2025-07-03 lowered every month since: carried into the forecast.
    assert report["model"] == "calendar_regression"
    assert report["level_shift_from"] in ("2025-07", "2025-08")
    y = np.array(list(history.values()))
    calendar = calendar_drivers(2022 * 12 + 10, len(y), cal.working_days)
    assert calendar is not None
    both = calendar | planned[0]
    for h in (1, 3, 6, 12):
        naive = backtest(y, "seasonal_naive", h=h).mae
        alone = backtest(y, "calendar_regression", h=h, drivers=calendar).mae
        with_plan = backtest(y, "calendar_regression", h=h, drivers=both).mae
        assert with_plan < alone < naive, (h, with_plan, alone, naive)


def test_the_demo_energy_budget_alert(platform: Platform) -> None:
    """The shipyard's energy budget is 12 500 tce (its site model); its grid power and
    boiler oil come to about 13 000 tce a year, so the 2025 projection (ten months
    accounted, two forecast) raises the energy-budget alert, which names the budget."""
    from tansuan.store.documents import current_model
    from tansuan.views.alerts import site_alerts

    settings = Settings(data_dir=platform.settings.data_dir,
                        shift_calendar=demo.shift_calendar("shipyard"))  # fmt: skip
    out = site_alerts(platform.store, current_model(platform.store), "shipyard", 2025, settings)
    assert out["budget_tce"] == 12_500.0
    assert out["facts"]["year_tce"] > 12_500.0
    kinds = {a.kind: a for a in out["alerts"]}
    assert "energy_budget" in kinds
    assert "12,500.0 tce" in kinds["energy_budget"].en
