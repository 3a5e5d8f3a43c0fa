"""The demo site models ship with the package, validate and simulate sensibly."""

from __future__ import annotations

import datetime as dt

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
