"""Periods are cut at local midnight in the site's time zone."""

from __future__ import annotations

import datetime as dt

import pytest

from tansuan.accounting.periods import month_period, parse_period
from tansuan.errors import InputError


def test_month_in_shanghai_starts_at_16_utc_the_day_before() -> None:
    """Asia/Shanghai is UTC+8 with no DST: local 2025-03-01 00:00 = 2025-02-28 16:00 UTC."""
    start, end = parse_period("2025-03").utc_bounds("Asia/Shanghai")
    assert start == dt.datetime(2025, 2, 28, 16, tzinfo=dt.UTC)
    assert end == dt.datetime(2025, 3, 31, 16, tzinfo=dt.UTC)


def test_hours_follow_dst() -> None:
    """March 2025 in Berlin loses one hour to DST (30 March): 31 × 24 − 1 = 743 h."""
    assert parse_period("2025-03").hours("Europe/Berlin") == 743
    assert parse_period("2025-03").hours("Asia/Shanghai") == 744


def test_year_and_quarter_split_into_months() -> None:
    year = parse_period("2024")
    assert [p.label for p in year.months()] == [f"2024-{m:02d}" for m in range(1, 13)]
    assert parse_period("2024").hours("Asia/Shanghai") == 366 * 24  # leap year
    assert [p.label for p in parse_period("2025-Q4").months()] == ["2025-10", "2025-11", "2025-12"]


def test_custom_period_clips_months() -> None:
    period = parse_period("2025-01-15..2025-03-01")
    months = period.months()
    assert [(m.start, m.end) for m in months] == [
        (dt.date(2025, 1, 15), dt.date(2025, 2, 1)),
        (dt.date(2025, 2, 1), dt.date(2025, 3, 1)),
    ]
    assert months[1].label == "2025-02"


def test_previous_periods() -> None:
    assert month_period(2025, 1).previous().label == "2024-12"
    assert parse_period("2025-Q1").previous().label == "2024-Q4"
    assert parse_period("2025").previous().label == "2024"


@pytest.mark.parametrize("bad", ["2025-13", "25", "2025-Q5", "2025-03-01..2025-02-01", "last year"])
def test_bad_periods_are_input_errors(bad: str) -> None:
    with pytest.raises(InputError, match="period"):
        parse_period(bad)


def test_future_elapsed_and_provisional_periods() -> None:
    """Against a fixed day (no clock): a period after it is refused, one running over it is
    provisional and only its begun months are computed, one before it is complete."""
    from tansuan.accounting.periods import elapsed_months, is_provisional, refuse_future

    today = dt.date(2026, 11, 18)
    with pytest.raises(InputError, match="has not started yet"):
        refuse_future(parse_period("2026-12"), today)
    refuse_future(parse_period("2026"), today)  # under way: accepted
    year = parse_period("2026")
    assert is_provisional(year, today)
    assert [m.label for m in elapsed_months(year, today)][-1] == "2026-11"
    assert len(elapsed_months(year, today)) == 11
    assert not is_provisional(parse_period("2026-10"), today)
    assert not is_provisional(parse_period("2025"), today)
    assert is_provisional(parse_period("2026-11"), today)
    assert is_provisional(parse_period("2026-11-17..2026-11-19"), dt.date(2026, 11, 18))
