"""Data quality of a site for the dashboard and ``GET /sites/{site}/quality``: coverage,
stale points, substituted data, counter flags.

Coverage and staleness are judged at the cadence a point's data actually arrive at when
that is sparser than its declared ``interval_s`` (an hourly upload, a historian that
sends one value an hour, a thinned simulator): the cadence is read from the hour rollups
of the last :data:`CADENCE_HOURS` hours (the median readings per hour, or the median gap
between hours with data), so an outage does not change it. The page shows the cadence
next to the declared interval, so a stream that has become sparser is visible. Readings
beyond one per cadence slot (a counter polled faster than its interval) never lift the
coverage above 100 %.

One query per table, whatever the number of points (the dashboard budget is 300 ms).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from sqlalchemy import Connection, func, select

from tansuan import clock
from tansuan.accounting import results
from tansuan.store import queries, schema
from tansuan.store.timeutil import day_start_us, from_us, local_day, next_day, to_us

#: Counter flags (glitch, spike, reset, rollover, pending) shown: readings of the shown
#: day and the days before it, newest first, at most MAX_FLAGS; pending ones always.
FLAG_DAYS = 30
MAX_FLAGS = 100
#: A point is stale when its last reading is older than this many intervals (of its
#: cadence, see :func:`cadence_s`).
STALE_INTERVALS = 3
HOUR_US = 3_600_000_000
#: Hours of hour rollups the cadence of each point is read from.
CADENCE_HOURS = 48
#: A cadence counts as sparser than declared only beyond this multiple of ``interval_s``.
CADENCE_TOLERANCE = 1.5


def cadence_s(interval_s: int, hours: list[tuple[int, int]]) -> int:
    """The interval a point's data arrive at [s]: ``interval_s`` unless the readings of
    ``hours`` (``(hour_us, n)`` of the hours with data, oldest first) are sparser.

    Dense data (the median hour holds two readings or more): 3600 / median readings per
    hour; sparse data: the median gap between consecutive hours with data. Hours without
    data (an outage) are not part of either median.

    >>> cadence_s(900, [(h * 3_600_000_000, 1) for h in range(24)])  # hourly uploads
    3600
    >>> cadence_s(900, [(h * 3_600_000_000, 4) for h in range(24)])  # as declared
    900
    >>> cadence_s(60, [(0, 1), (7_200_000_000, 1), (14_400_000_000, 1)])  # every 2 h
    7200
    """
    if not hours:
        return interval_s
    counts = sorted(n for _, n in hours)
    median_n = counts[len(counts) // 2]
    if median_n >= 2:
        observed = 3600 / median_n
    elif len(hours) >= 2:
        gaps = sorted(b[0] - a[0] for a, b in zip(hours, hours[1:], strict=False))
        observed = gaps[len(gaps) // 2] / 1e6
    else:
        observed = 3600.0
    if observed > CADENCE_TOLERANCE * interval_s:
        return int(round(observed))
    return interval_s


def site_quality(connection: Connection, site: str, day: dt.date | None = None) -> dict[str, Any]:
    """Coverage of every point of ``site`` on ``day`` (default: today so far, by the
    calendar clock), its stale points, the data grade of this month's results per source
    the readings rejected in the last 24 hours and the counter readings flagged in the
    ``FLAG_DAYS`` days up to the day (glitch, spike, reset, rollover, pending)."""
    points = queries.subtree_points(connection, site, None)
    now_us = to_us(clock.now())
    if not points:
        return {"site": site, "day": None, "points": [], "sources": [], "stale": 0}
    tz = points[0].timezone
    today = local_day(now_us, tz) if day is None else day.year * 10000 + day.month * 100 + day.day
    lo = day_start_us(today, tz)
    hi = (
        min(day_start_us(next_day(today), tz), now_us)
        if day is None
        else day_start_us(next_day(today), tz)
    )
    seconds = max(hi - lo, 0) / 1e6
    d, h = schema.rollup_day, schema.rollup_hour
    site_id = points[0].site_id
    counts = {
        r.point_id: (r.n, r.n_valid)
        for r in connection.execute(
            select(d.c.point_id, d.c.n, d.c.n_valid).where(d.c.site_id == site_id, d.c.day == today)
        )
    }
    last = dict(
        connection.execute(
            select(h.c.point_id, func.max(h.c.last_ts_us))
            .where(h.c.site_id == site_id)
            .group_by(h.c.point_id)
        ).all()
    )
    # The hour rollups of the cadence window and of the day, one query.
    since = min(lo, hi - CADENCE_HOURS * HOUR_US)
    first_hour = since - since % HOUR_US
    hours: dict[int, list[tuple[int, int, int]]] = {}
    for r in connection.execute(
        select(h.c.point_id, h.c.hour_us, h.c.n, h.c.n_valid)
        .where(h.c.site_id == site_id, h.c.hour_us >= first_hour, h.c.hour_us < hi)
        .order_by(h.c.point_id, h.c.hour_us)
    ):
        hours.setdefault(r.point_id, []).append((r.hour_us, r.n, r.n_valid))
    day_from = lo - lo % HOUR_US
    cadence_from = hi - CADENCE_HOURS * HOUR_US
    rows = []
    for p in points:
        n, valid = counts.get(p.id, (0, 0))
        own = hours.get(p.id, [])
        every = cadence_s(p.interval_s, [(t, k) for t, k, _ in own if t >= cadence_from and k])
        expected = seconds / every
        # At most one reading per cadence slot counts (a fast-polled counter stays ≤ 100 %).
        per_hour = max(1, math.ceil(3600 / every))
        slots = sum(min(v, per_hour) for t, _, v in own if t >= day_from)
        ts = last.get(p.id)
        stale = ts is None or now_us - ts > STALE_INTERVALS * every * 1_000_000
        rows.append(
            {
                "point": p.key,
                "device_path": p.path,
                "unit": p.unit,
                "kind": p.kind,
                "interval_s": p.interval_s,
                "cadence_s": every,
                "expected": round(expected, 1),
                "received": n,
                "valid": valid,
                "coverage": min(1.0, slots / expected) if expected else None,
                "last_ts": None if ts is None else from_us(ts).isoformat(),
                "stale": stale,
            }
        )
    month = f"{today // 10000:04d}-{today // 100 % 100:02d}"
    by_source: dict[str, dict[str, Any]] = {}
    for line in results.current_lines(connection, site, [month]):
        by_source.setdefault(
            line["source_id"],
            {
                "source": line["source_id"],
                "month": month,
                "grade": line["grade"],
                "coverage": line["coverage"],
                "substituted_share": line["substituted_share"],
                "result_set": line["id"],
                "state": "computed",
                "problem": None,
                "fix": None,
            },
        )
    # Failed or missing months are shown as such, with their reason (never as absent).
    for row in results.problem_sets(connection, site, [month], include_checks=True):
        by_source[row["source_id"]] = {
            "source": row["source_id"],
            "month": month,
            "grade": row["grade"],
            "coverage": row["coverage"],
            "substituted_share": 0.0,
            "result_set": row["id"],
            "state": row["state"],
            "problem": row["problem"],
            "fix": row["fix"],
        }
    q, b = schema.quarantine, schema.ingest_batch
    since = now_us - 24 * 3600 * 1_000_000
    rejected = [
        {"reason": r.reason, "rows": r.rows, "last_detail": r.detail}
        for r in connection.execute(
            select(q.c.reason, func.count().label("rows"), func.max(q.c.detail).label("detail"))
            .join(b, b.c.id == q.c.batch_id)
            .where(q.c.site_key == site, b.c.received_at_us >= since)
            .group_by(q.c.reason)
            .order_by(q.c.reason)
        )
    ]
    f = schema.counter_flag
    keys = {p.id: p.key for p in points}
    counter_flags = [
        {
            "point": keys.get(r.point_id, str(r.point_id)),
            "ts": from_us(r.ts_us).isoformat(),
            "value": r.value,
            "level": r.level,
            "kind": r.kind,
            "detail": r.detail,
        }
        for r in connection.execute(
            select(f.c.point_id, f.c.ts_us, f.c.value, f.c.level, f.c.kind, f.c.detail)
            .where(
                f.c.site_id == site_id,
                ((f.c.ts_us >= lo - FLAG_DAYS * 86_400_000_000) & (f.c.ts_us < hi))
                | (f.c.kind == "pending"),
            )
            .order_by(f.c.ts_us.desc())
            .limit(MAX_FLAGS)
        )
    ]
    m = schema.meter_replacement
    counter_flags += [
        {
            "point": keys.get(r.point_id, str(r.point_id)),
            "ts": from_us(r.at_us).isoformat(),
            "value": r.initial,
            "level": r.final,
            "kind": "replacement",
            "detail": f"meter replaced: final {r.final:g}, initial {r.initial:g} — {r.reason}",
        }
        for r in connection.execute(
            select(m.c.point_id, m.c.at_us, m.c.final, m.c.initial, m.c.reason)
            .where(m.c.site_id == site_id, m.c.at_us >= lo - FLAG_DAYS * 86_400_000_000)
            .where(m.c.at_us < hi)
            .order_by(m.c.at_us.desc())
            .limit(MAX_FLAGS)
        )
    ]
    counter_flags.sort(key=lambda flag: str(flag["ts"]), reverse=True)
    return {
        "counter_flags": counter_flags,
        "rejected_24h": rejected,
        "site": site,
        "day": f"{today // 10000:04d}-{today // 100 % 100:02d}-{today % 100:02d}",
        "points": rows,
        "sources": list(by_source.values()),
        "stale": sum(1 for r in rows if r["stale"]),
    }
