"""Reporting periods, cut in the site's time zone.

A period is a half-open range of *local calendar days* ``[start, end)``. Months,
quarters and years are cut at local midnight in the site's time zone (default
``Asia/Shanghai``) and converted to UTC only at the store boundary: 2025-03 in
Shanghai is ``[2025-02-28T16:00Z, 2025-03-31T16:00Z)``.

>>> parse_period("2025-Q1").label
'2025-Q1'
>>> [p.label for p in parse_period("2025-Q1").months()]
['2025-01', '2025-02', '2025-03']
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from tansuan.domain import months
from tansuan.errors import InputError

PeriodKind = Literal["month", "quarter", "year", "custom"]


@dataclass(frozen=True, order=True)
class Period:
    """Local calendar days ``[start, end)`` with a label (``2025``, ``2025-03``, ``2025-Q2``)."""

    start: dt.date
    end: dt.date
    kind: PeriodKind
    label: str

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise InputError(f"period {self.label!r} ends before it starts", field="period")

    def utc_bounds(self, timezone: str) -> tuple[dt.datetime, dt.datetime]:
        """UTC instants of local midnight at ``start`` and ``end``."""
        zone = ZoneInfo(timezone)
        start = dt.datetime.combine(self.start, dt.time(), zone).astimezone(dt.UTC)
        end = dt.datetime.combine(self.end, dt.time(), zone).astimezone(dt.UTC)
        return start, end

    def hours(self, timezone: str) -> int:
        """Number of whole hours in the period (DST-aware)."""
        start, end = self.utc_bounds(timezone)
        return int((end - start).total_seconds() // 3600)

    def months(self) -> list[Period]:
        """The calendar months this period covers, clipped to the period."""
        out: list[Period] = []
        cursor = self.start
        while cursor < self.end:
            month = month_period(cursor.year, cursor.month)
            clipped_start, clipped_end = max(month.start, self.start), min(month.end, self.end)
            if (clipped_start, clipped_end) == (month.start, month.end):
                out.append(month)
            else:
                out.append(
                    Period(clipped_start, clipped_end, "custom", f"{clipped_start}..{clipped_end}")
                )
            cursor = month.end
        return out

    def contains(self, day: dt.date) -> bool:
        return self.start <= day < self.end

    def previous(self) -> Period:
        """The period of the same kind just before this one (for previous-period averages)."""
        if self.kind == "month":
            year, month = (
                (self.start.year, self.start.month - 1)
                if self.start.month > 1
                else (
                    self.start.year - 1,
                    12,
                )
            )
            return month_period(year, month)
        if self.kind == "quarter":
            quarter = (self.start.month - 1) // 3 + 1
            year, quarter = (
                (self.start.year, quarter - 1)
                if quarter > 1
                else (
                    self.start.year - 1,
                    4,
                )
            )
            return quarter_period(year, quarter)
        if self.kind == "year":
            return year_period(self.start.year - 1)
        length = self.end - self.start
        return Period(
            self.start - length, self.start, "custom", f"{self.start - length}..{self.start}"
        )


def month_period(year: int, month: int) -> Period:
    i = year * 12 + month - 1
    return Period(months.first_day(i), months.first_day(i + 1), "month", months.label(i))


def quarter_period(year: int, quarter: int) -> Period:
    if not 1 <= quarter <= 4:
        raise InputError(f"quarter must be 1..4, got {quarter}", field="period")
    start = dt.date(year, 3 * quarter - 2, 1)
    end = dt.date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1)
    return Period(start, end, "quarter", f"{year:04d}-Q{quarter}")


def year_period(year: int) -> Period:
    return Period(dt.date(year, 1, 1), dt.date(year + 1, 1, 1), "year", f"{year:04d}")


_YEAR = re.compile(r"^(\d{4})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")
_CUSTOM = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})$")


def parse_period(text: str) -> Period:
    """Parse ``2025``, ``2025-03``, ``2025-Q1`` or ``2025-01-05..2025-02-10`` (end exclusive)."""
    value = text.strip()
    if match := _YEAR.match(value):
        return year_period(int(match[1]))
    if match := _MONTH.match(value):
        month = int(match[2])
        if not 1 <= month <= 12:
            raise InputError(f"month must be 1..12 in {text!r}", field="period")
        return month_period(int(match[1]), month)
    if match := _QUARTER.match(value):
        return quarter_period(int(match[1]), int(match[2]))
    if match := _CUSTOM.match(value):
        try:
            start, end = dt.date.fromisoformat(match[1]), dt.date.fromisoformat(match[2])
        except ValueError as exc:
            raise InputError(f"{text!r}: {exc}", field="period") from None
        return Period(start, end, "custom", f"{start}..{end}")
    raise InputError(
        f"cannot read period {text!r}: use 2025, 2025-03, 2025-Q1 or 2025-01-01..2025-02-01",
        field="period",
    )


#: The reason an incomplete period's results are provisional, in both languages.
PROVISIONAL_REASON = "provisional — period not complete / 临时数据：报告期未结束"


def refuse_future(period: Period, today: dt.date) -> None:
    """Refuse a period that starts after ``today`` (the site's local date): nothing can be
    measured in it yet, and accounting it would only write zero results that look real."""
    if period.start > today:
        raise InputError(
            f"报告期 {period.label} 尚未开始（今天是 {today}），不能核算 / "
            f"period {period.label} has not started yet (today is {today}); "
            "a future period cannot be accounted",
            field="period",
        )


def is_provisional(period: Period, today: dt.date) -> bool:
    """Whether ``period`` is not yet complete on ``today``: its last day is today or later,
    so its results can still change and are provisional."""
    return period.end > today


def elapsed_months(period: Period, today: dt.date) -> list[Period]:
    """The months of ``period`` that have begun by ``today``; months entirely after today
    are left out so that no zero result is written for them."""
    return [month for month in period.months() if month.start <= today]
