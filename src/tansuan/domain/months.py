"""Calendar months as integers: the one month arithmetic of tansuan.

A month is counted as ``year × 12 + (month − 1)`` (January of year 0 is 0), so that the
months between two labels, the month before, or the first day of the month after are
integer sums instead of date juggling. Labels are ``YYYY-MM``, the reporting periods'
own spelling.

>>> label(index("2025-12") + 1)
'2026-01'
>>> span("2025-11", "2026-02")
['2025-11', '2025-12', '2026-01', '2026-02']
"""

from __future__ import annotations

import datetime as dt

from tansuan.errors import InputError


def index(month: str) -> int:
    """The month index of a ``YYYY-MM`` label; a malformed label is an InputError."""
    try:
        year, number = int(month[:4]), int(month[5:7])
    except ValueError:
        raise InputError(f"{month!r} is not a month (YYYY-MM)", field="month") from None
    if len(month) != 7 or month[4] != "-" or not 1 <= number <= 12:
        raise InputError(f"{month!r} is not a month (YYYY-MM)", field="month")
    return year * 12 + number - 1


def index_of(day: dt.date) -> int:
    """The month index of the month ``day`` falls in."""
    return day.year * 12 + day.month - 1


def label(i: int) -> str:
    """The ``YYYY-MM`` label of month index ``i``."""
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


def first_day(i: int) -> dt.date:
    """The first day of month index ``i`` (``first_day(i + 1)`` ends month ``i``)."""
    return dt.date(i // 12, i % 12 + 1, 1)


def span(first: str, last: str) -> list[str]:
    """Every month label from ``first`` to ``last``, both included (empty if reversed)."""
    return [label(i) for i in range(index(first), index(last) + 1)]
