"""Findings with planted truth: a device run outside its shift, an idling device, an outlier."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from tansuan.analytics.findings import (
    ShiftCalendar,
    Valuation,
    idling,
    off_shift,
    peer_outliers,
    rank,
)
from tansuan.errors import InputError

CAL = ShiftCalendar.parse({"mon-fri": "08-18"})
START = dt.datetime(2026, 3, 2)  # a Monday
HOURS = [START + dt.timedelta(hours=h) for h in range(28 * 24)]  # four weeks


def _profile(rng: np.random.Generator, kw: float) -> np.ndarray:
    """kW per hour: ``kw`` ± 3 % on shift, 0.5 kW standby off shift."""
    on = np.array([CAL.on_shift(t) for t in HOURS])
    return np.where(on, kw * (1 + rng.normal(0, 0.03, len(HOURS))), 0.5)


def test_calendar_parsing() -> None:
    cal = ShiftCalendar.parse({"mon-fri": "08-12,13-18", "sat": "08-12"})
    assert cal.on_shift(dt.datetime(2026, 3, 2, 9)) and not cal.on_shift(
        dt.datetime(2026, 3, 2, 12)
    )
    assert cal.on_shift(dt.datetime(2026, 3, 7, 8)) and not cal.on_shift(dt.datetime(2026, 3, 8, 9))
    with pytest.raises(InputError, match="unknown day"):
        ShiftCalendar.parse({"funday": "08-18"})
    with pytest.raises(InputError, match="bad hour range"):
        ShiftCalendar.parse({"mon": "18-08"})


def test_a_device_run_outside_its_shift_is_found_and_ranked_first() -> None:
    """Fan B also runs Saturdays 00-24 at 30 kW: 4 Saturdays × 24 h × (30 − 1) kWh above a
    1 kW standby = 2 784 kWh in 28 days → × 8760/672 = 36 291.4 kWh/a. At 0.7 CNY/kWh,
    0.5703 t/MWh and 60 CNY/t: 20.697 tCO2e and 25 404.0 + 1 241.8 = 26 645.8 CNY/a.
    """
    rng = np.random.default_rng(4)
    fan_a = _profile(rng, 30.0)
    fan_b = _profile(rng, 30.0)
    saturdays = np.array([t.weekday() == 5 for t in HOURS])
    fan_b[saturdays] = 30.0
    found = [
        f
        for name, kwh in (("fan-A", fan_a), ("fan-B", fan_b))
        if (f := off_shift(name, HOURS, kwh, CAL, standby_kw=1.0)) is not None
    ]
    assert [f.device for f in found] == ["fan-B"]
    finding = found[0]
    assert finding.waste_kwh == pytest.approx(4 * 24 * 29)
    assert finding.annual_kwh == pytest.approx(36291.43, abs=0.01)
    assert len(finding.evidence["hours"]) == 96
    costed = rank(found, Valuation(tariff=0.7, factor_t_per_mwh=0.5703, carbon_price=60))
    assert costed[0].annual_tco2e == pytest.approx(20.697, abs=1e-3)
    assert costed[0].annual_cost == pytest.approx(26645.8, abs=0.1)


def test_an_idling_compressor_is_found() -> None:
    """On shift, compressor idles at 10 % of 55 kW on Wednesdays (4 × 10 h × 5.5 kWh = 220 kWh)."""
    rng = np.random.default_rng(5)
    kw = _profile(rng, 45.0)
    wednesday_shift = np.array([t.weekday() == 2 and CAL.on_shift(t) for t in HOURS])
    kw[wednesday_shift] = 5.5
    finding = idling("comp-1", HOURS, kw, CAL, rated_kw=55.0)
    assert finding is not None
    assert finding.waste_kwh == pytest.approx(220.0)
    assert idling("comp-2", HOURS, _profile(rng, 45.0), CAL, rated_kw=55.0) is None


def test_peer_outlier_and_ranking_order() -> None:
    """Welders at 2.0, 2.1, 1.9, 3.0 kWh/part; median 2.05; welder-4 excess 0.95 × 1000 parts."""
    found = peer_outliers(
        {"w1": (2000, 1000), "w2": (2100, 1000), "w3": (1900, 1000), "w4": (3000, 1000)},
        observed_hours=876.0,
    )
    assert [f.device for f in found] == ["w4"]
    assert found[0].waste_kwh == pytest.approx(950.0)
    assert found[0].annual_kwh == pytest.approx(9500.0)
    small = off_shift("x", HOURS[:5], [0, 0, 0, 0, 2.0], CAL, min_hours=1)
    assert small is not None
    ranked = rank([small, found[0]], Valuation(tariff=1.0, factor_t_per_mwh=0.5))
    assert [c.finding.device for c in ranked] == ["w4", "x"]


def test_bad_input() -> None:
    with pytest.raises(InputError, match="timestamps"):
        off_shift("x", HOURS[:3], [1, 2], CAL)
    with pytest.raises(InputError, match="negative"):
        off_shift("x", HOURS[:2], [1, -2], CAL)
    with pytest.raises(InputError, match="3 peers"):
        peer_outliers({"a": (1, 1)}, observed_hours=1)
    with pytest.raises(InputError, match="rated power"):
        idling("x", HOURS[:2], [1, 2], CAL, rated_kw=0)


def test_vectorised_mask_agrees_with_on_shift() -> None:
    """Every hour of 2026 (incl. a leap-free year boundary) and an aware timestamp."""
    from tansuan.analytics.findings import _stamps

    cal = ShiftCalendar.parse({"mon-fri": "08-12,13-18", "sat": "06-10"})
    hours = [dt.datetime(2025, 12, 29) + dt.timedelta(hours=h) for h in range(24 * 372)]
    assert cal.mask(_stamps(hours)).tolist() == [cal.on_shift(t) for t in hours]
    aware = dt.datetime(2026, 3, 7, 7, tzinfo=dt.timezone(dt.timedelta(hours=8)))  # Sat 07:00
    assert cal.mask(_stamps([aware])).tolist() == [True]


def test_simultaneous_heating_and_cooling() -> None:
    """Heating 07-09 h at 20 kWh/h, cooling 08-17 h at 15 kWh/h, every day for 28 days:
    overlap 1 h/day → 28 × min(20, 15) = 420 kWh; × 8760/672 = 5 475 kWh/a."""
    from tansuan.analytics.findings import simultaneous_heating_cooling

    heat = np.array([20.0 if 7 <= t.hour < 9 else 0.0 for t in HOURS])
    cool = np.array([15.0 if 8 <= t.hour < 17 else 0.0 for t in HOURS])
    found = simultaneous_heating_cooling("office", HOURS, heat, cool)
    assert found is not None
    assert found.waste_kwh == pytest.approx(420.0)
    assert found.annual_kwh == pytest.approx(5475.0)
    assert len(found.evidence["hours"]) == 28
    assert simultaneous_heating_cooling("x", HOURS, heat, np.roll(cool, 12) * 0) is None


def test_closures_and_working_days_by_hand() -> None:
    """Mon–Sat, closed 1–10 February and 1–7 October.

    February 2025: 28 days, Sundays 2, 9, 16, 23 → 24 Mon–Sat days; closed Mon–Sat days
    1, 3, 4, 5, 6, 7, 8, 10 → 16 working days. October 2025: Sundays 5, 12, 19, 26 → 27;
    closed 1, 2, 3, 4, 6, 7 → 21. March 2025: Sundays 2, 9, 16, 23, 30 → 26.
    """
    cal = ShiftCalendar.from_text("mon-sat=07-16,16-24;closed=02-01..02-10,10-01..10-07")
    assert cal.working_days(2025, 2) == 16
    assert cal.working_days(2025, 10) == 21
    assert cal.working_days(2025, 3) == 26
    assert not cal.on_shift(dt.datetime(2025, 2, 3, 9))  # a Monday, closed
    assert cal.on_shift(dt.datetime(2025, 2, 11, 9))  # the Tuesday after
    hours = np.array(["2025-02-03T09", "2025-02-11T09", "2025-02-16T09"], dtype="datetime64[h]")
    assert cal.mask(hours).tolist() == [False, True, False]


def test_a_closure_over_the_new_year() -> None:
    """Mon–Fri, closed 30 Dec – 2 Jan. January 2025: 23 weekdays; closed 1 (Wed), 2 (Thu)
    → 21. December 2025: 23 weekdays; closed 30 (Tue), 31 (Wed) → 21."""
    cal = ShiftCalendar.from_text("mon-fri=08-18;closed=12-30..01-02")
    assert cal.working_days(2025, 1) == 21
    assert cal.working_days(2025, 12) == 21
    assert cal.working_days(2025, 6) == 21  # June 2025: 21 weekdays, nothing closed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mon-fri=08-18;closed=02-30..03-01", "bad closure"),
        ("mon-fri=08-18;closed=13-01..13-02", "bad closure"),
        ("mon-fri=08-18;closed=feb", "bad closure"),
        ("mon-fri", "must look like"),
        ("", "empty"),
    ],
)
def test_bad_calendars_are_refused_by_name(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        ShiftCalendar.from_text(text)
