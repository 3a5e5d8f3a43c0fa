"""The demo site models ship with the package, validate and simulate sensibly."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tansuan.cli import app
from tansuan.twin import demo
from tansuan.twin.plant import Plant


@pytest.mark.parametrize("name", demo.DEMOS)
def test_demo_site_validates(name: str) -> None:
    result = CliRunner().invoke(app, ["site", "validate", str(demo.site_file(name))])
    assert result.exit_code == 0, result.output
    assert "no problems" in result.output


def test_shipyard_has_about_300_ten_year_old_fans() -> None:
    site = demo.site("shipyard")
    fans = [d for _, d in site.iter_devices() if d.device_class == "fan"]
    assert 280 <= len(fans) <= 320
    assert all(d.commissioned and d.commissioned.year <= 2016 for d in fans)
    classes = {d.device_class for _, d in site.iter_devices()}
    assert {"compressor", "welder", "boiler", "cems", "meter"} <= classes
    assert any(p.protocol.hj212 for _, d in site.iter_devices() for p in d.points)


@pytest.mark.parametrize("name", demo.DEMOS)
def test_a_day_of_each_demo_is_within_the_valid_ranges(name: str) -> None:
    site = demo.site(name)
    frame, totals = Plant(site, demo.spec(name, end=dt.date(2025, 6, 30))).day(dt.date(2025, 6, 2))
    points = site.points()
    assert set(frame.point.tolist()) == set(points)
    assert np.isfinite(frame.value).all()
    for point_id, (_, point) in points.items():
        if point.valid_range:
            values = frame.value[(frame.point == point_id) & (frame.quality == "N")]
            low, high = point.valid_range
            assert values.min() >= low and values.max() <= high, point_id
    assert sum(totals.fuel_t.values()) > 0


def test_coal_unit_generates_about_600_mw_at_full_load() -> None:
    site = demo.site("coal-unit")
    frame, totals = Plant(site, demo.spec("coal-unit")).day(dt.date(2025, 6, 2))
    mw = frame.value[frame.point == "gen-1.power"]
    assert 350 < mw.mean() < 600 and mw.max() < 700
    assert sum(totals.generated_kwh.values()) / 1000 / 24 == pytest.approx(mw.mean(), rel=0.05)


def test_cli_lists_the_demo_sites() -> None:
    result = CliRunner().invoke(app, ["twin", "sites"])
    assert result.exit_code == 0, result.output
    for name in demo.DEMOS:
        assert name in result.output


def test_cli_run_without_a_server_retries_and_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nobody listens: sends fail, are kept for the next tick, and the run still ends."""
    from tansuan.settings import get_settings

    monkeypatch.setenv("TANSUAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("TANSUAN_MQTT_URL", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app,
            ["twin", "run", "--site", "cement", "--url", "http://127.0.0.1:9", "--tick", "0.2",
             "--duration", "0.5", "--no-hj212"],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "0 HTTP" in result.output
        no_broker = CliRunner().invoke(app, ["twin", "run", "--mqtt", "--duration", "0.1"])
        assert no_broker.exit_code == 2
    finally:
        get_settings.cache_clear()


def test_the_demo_calendars_in_the_settings_form() -> None:
    """The shipyard works Mon–Sat, 07:30–16:00 and 16:00–23:30 (whole hours: 07–16,
    16–24), closed 1–10 February and 1–7 October; the cement plant runs around the clock."""
    from tansuan.analytics.findings import ShiftCalendar
    from tansuan.twin import demo

    text = demo.shift_calendar("shipyard")
    cal = ShiftCalendar.from_text(text)
    assert sorted(cal.hours) == [0, 1, 2, 3, 4, 5]
    assert cal.hours[5] == ((7, 16), (16, 24))
    assert cal.closed == ((2, 1, 2, 10), (10, 1, 10, 7))
    assert demo.shift_calendar("cement") == "mon-sun=00-24"
