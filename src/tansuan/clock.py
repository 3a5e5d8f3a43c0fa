"""The platform's one calendar clock: what "now" and "today" are.

Production reads the system clock. ``TANSUAN_NOW`` (:attr:`Settings.now`) freezes it at
one instant, for tests and for replaying a past day, so that "this year", "the last
complete month" and "the same month last year" never depend on the day a test runs.

Only calendar questions go through here. Timestamps of events as they happen — a
gateway receiving a packet, a tree head being signed, a result version being saved —
keep the real clock: a frozen clock there would make every live reading a duplicate.
"""

from __future__ import annotations

import datetime as dt
import os

from tansuan.errors import ConfigError

#: The environment variable that freezes the clock (the ``now`` setting).
ENV = "TANSUAN_NOW"


def parse_instant(text: str) -> dt.datetime:
    """An ISO 8601 instant with its offset; a naive or malformed one is a ConfigError."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(
            f"{text!r} is not an ISO 8601 instant, e.g. 2025-11-15T10:00:00+08:00", field="now"
        ) from None
    if value.tzinfo is None:
        raise ConfigError(f"{text!r} needs a UTC offset, e.g. +08:00", field="now")
    return value


def now(tz: dt.tzinfo = dt.UTC, *, fixed: str | None = None) -> dt.datetime:
    """The current instant in ``tz``: ``fixed`` if given, else ``TANSUAN_NOW``, else the
    system clock."""
    text = fixed or os.environ.get(ENV)
    if text:
        return parse_instant(text).astimezone(tz)
    return dt.datetime.now(tz)


def today(tz: dt.tzinfo = dt.UTC, *, fixed: str | None = None) -> dt.date:
    """Today's date in ``tz`` (a site's zone cuts its days), from :func:`now`."""
    return now(tz, fixed=fixed).date()
