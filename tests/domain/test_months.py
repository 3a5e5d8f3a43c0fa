"""Month arithmetic (domain/months.py): labels, indices, spans, first days."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tansuan.domain import months
from tansuan.errors import InputError


def test_worked_examples() -> None:
    """2025-12 is 2025 × 12 + 11 = 24 311; one more is January 2026."""
    assert months.index("2025-12") == 24_311
    assert months.label(24_312) == "2026-01"
    assert months.first_day(24_312) == dt.date(2026, 1, 1)
    assert months.span("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert months.span("2026-02", "2025-11") == []
    assert months.index_of(dt.date(2024, 2, 29)) == months.index("2024-02")


@given(st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(9998, 12, 31)))
def test_round_trips(day: dt.date) -> None:
    i = months.index_of(day)
    assert months.index(months.label(i)) == i
    assert months.first_day(i) <= day < months.first_day(i + 1)


@pytest.mark.parametrize("text", ["2025-13", "2025-00", "2025/01", "25-01", "2025-1", "abcd-ef"])
def test_a_malformed_month_is_named(text: str) -> None:
    with pytest.raises(InputError, match="is not a month"):
        months.index(text)
