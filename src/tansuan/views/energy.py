"""A site's energy and production as read from the store: per device (hourly, daily,
total output), per device class, per point, under a node (daily kWh of its meters) and
its manual monthly series.

These are the store-reading halves the findings, savings, EnPI and forecast views share;
which points count is :mod:`tansuan.analytics.counters`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from tansuan.analytics.counters import energy_counters, output_counters
from tansuan.domain import months, units
from tansuan.errors import InputError, NotFound
from tansuan.store.manual import current_entries
from tansuan.store.queries import Resolution, aggregate, point_info, point_rollups, series
from tansuan.store.timeutil import date_of, from_us

#: One rollup bucket as :func:`~tansuan.store.queries.point_rollups` gives it.
Bucket = tuple[int, int, int, float | None, float | None]


class Rollups:
    """The hour rollups over ``[lo, hi)`` and the day rollups over ``[early, hi)`` of every
    energy, power and output point of ``devices``, read in two queries: what
    :func:`device_hours`, :func:`device_days` and :func:`device_output` read per device
    (three queries each) when a whole site is analysed at once."""

    def __init__(self, connection: Any, site: str, devices: list[Any], lo: dt.datetime,
                 hi: dt.datetime, early: dt.datetime, zone: Any) -> None:  # fmt: skip
        # The first candidate point of each device (the one used when it has data; the
        # others are read one by one, only for a device whose first one has none).
        keys = [c[0].id for d in devices if (c := _candidates(d))]
        keys += [p.id for d in devices for p in output_counters(d)]
        self.hours = point_rollups(connection, site, keys, "hour", lo, hi)
        self.days = point_rollups(connection, site, keys, "day", early, hi)
        self.first_day = lo.year * 10000 + lo.month * 100 + lo.day
        self.zone = zone
        self._local: dict[int, dt.datetime] = {}

    def local_hour(self, hour_us: int) -> dt.datetime:
        """A UTC hour start as a local naive hour stamp (memoised: the hours repeat)."""
        stamp = self._local.get(hour_us)
        if stamp is None:
            stamp = from_us(hour_us).astimezone(self.zone).replace(tzinfo=None)
            self._local[hour_us] = stamp
        return stamp


def _candidates(device: Any) -> list[Any]:
    return [*energy_counters(device), *(p for p in device.points if p.quantity == "power")]


def _column(bucket: Bucket, column: str) -> float | None:
    """``delta``, ``sum`` or ``mean`` (sum / valid readings) of a bucket."""
    _, _, n_valid, total, delta = bucket
    if column == "delta":
        return delta
    if column == "sum":
        return total
    return total / n_valid if n_valid and total is not None else None


def device_hours(
    connection: Any, site: str, device: Any, lo: dt.datetime, hi: dt.datetime, zone: Any,
    rollups: Rollups | None = None,
) -> tuple[list[dt.datetime], np.ndarray] | None:  # fmt: skip
    """Hourly energy [kWh] of a device (local naive hour stamps): from an energy point
    (``total``/``total_increasing``), else the hourly mean of a power point [kW].
    ``rollups``: read from there (the same window) instead of the store."""
    energy = energy_counters(device)
    power = [p for p in device.points if p.quantity == "power"]
    candidates = [(p, "kWh", "delta" if p.kind == "total_increasing" else "sum") for p in energy]
    candidates += [(p, "kW", "mean") for p in power]
    for point, target, column in candidates:
        scale = units.factor(point.unit, target)
        if rollups is not None and point.id in rollups.hours:
            got = [(b[0], v) for b in rollups.hours[point.id]
                   if (v := _column(b, column)) is not None]  # fmt: skip
            if got:
                return [rollups.local_hour(h) for h, _ in got], np.maximum(
                    np.array([v for _, v in got], dtype=float) * scale, 0.0
                )
            continue
        stamps, values = [], []
        for row in series(connection, site, point.id, lo, hi, "hour"):
            value = row.get(column)
            if value is None:
                continue
            stamps.append(row["period"].astimezone(zone).replace(tzinfo=None))
            values.append(max(float(value) * scale, 0.0))
        if stamps:
            return stamps, np.array(values)
    return None


def device_days(
    connection: Any, site: str, device: Any, lo: dt.datetime, hi: dt.datetime,
    rollups: Rollups | None = None,
) -> tuple[list[dt.date], np.ndarray] | None:  # fmt: skip
    """Daily energy [kWh] of a device per local day in [lo, hi): the counter's delta (or
    the sum), else the day's mean power [kW] × 24 h. Days with fewer readings than 80 % of
    the device's usual count (partial days) are left out. ``rollups``: read from there
    (its ``early``..``hi`` window) instead of the store."""
    energy = energy_counters(device)
    power = [p for p in device.points if p.quantity == "power"]
    candidates = [(p, "kWh", "delta" if p.kind == "total_increasing" else "sum", 1.0)
                  for p in energy] + [(p, "kW", "mean", 24.0) for p in power]  # fmt: skip
    for point, target, column, hours in candidates:
        rows: list[dict[str, Any]]
        if rollups is not None and point.id in rollups.days:
            rows = [{"period": date_of(b[0]), "n": b[1], column: v}
                    for b in rollups.days[point.id]
                    if (v := _column(b, column)) is not None]  # fmt: skip
        else:
            rows = [r for r in series(connection, site, point.id, lo, hi, "day")
                    if r.get(column) is not None]  # fmt: skip
        if not rows:
            continue
        usual = float(np.median([r["n"] for r in rows]))
        rows = [r for r in rows if r["n"] >= 0.8 * usual]
        scale = units.factor(point.unit, target) * hours
        days = [dt.date.fromisoformat(str(r["period"])[:10]) for r in rows]
        return days, np.array([max(float(r[column]) * scale, 0.0) for r in rows])
    return None


def device_output(
    connection: Any, site: str, device: Any, lo: dt.datetime, hi: dt.datetime,
    rollups: Rollups | None = None,
) -> float | None:  # fmt: skip
    """Total output over the window of the device's production point (quantity
    ``production`` or ``output``, kind ``total``/``total_increasing``), if it has one.
    ``rollups``: read from there (the days from ``lo`` on) instead of the store."""
    for point in output_counters(device):
        column = "delta" if point.kind == "total_increasing" else "sum"
        rows: list[dict[str, Any]]
        if rollups is not None and point.id in rollups.days:
            rows = [{column: _column(b, column)} for b in rollups.days[point.id]
                    if b[0] >= rollups.first_day]  # fmt: skip
        else:
            rows = series(connection, site, point.id, lo, hi, "day")
        total = sum(float(r[column]) for r in rows if r.get(column) is not None)
        return total if total > 0 else None
    return None


def node_days(
    connection: Any, site_model: Any, node: str, start: dt.date, end: dt.date
) -> dict[str, float]:
    """``{YYYY-MM-DD: kWh}`` of all energy meters under ``node`` (a line, area or device;
    the site id for the whole site) — the EnPI boundary of ISO 50006."""
    zone = ZoneInfo(site_model.timezone)
    lo = dt.datetime.combine(start, dt.time(), zone)
    hi = dt.datetime.combine(end, dt.time(), zone)
    rows = aggregate(connection, site_model.id, None if node == site_model.id else node, lo, hi,
                     "day", quantity="energy")  # fmt: skip
    out: dict[str, float] = {}
    for row in rows:
        period = str(row["period"])[:10]
        out[period] = out.get(period, 0.0) + row["delta"] * units.factor(row["unit"], "kWh")
    if not out:
        raise NotFound(f"没有能耗表数据 / no energy meter data under {node!r} in {site_model.id!r}")
    return out


def monthly_series(connection: Any, site_model: Any, kind: str) -> dict[str, float]:
    """``{YYYY-MM: total}`` of the site's manual series of ``kind`` (e.g. ``production``),
    summed over its series in the first one's unit; entries spanning more than one month
    are left out."""
    chosen = [s for s in site_model.series if s.kind == kind]
    out: dict[str, float] = {}
    for manual in chosen:
        scale = units.factor(manual.unit, chosen[0].unit)
        for entry in current_entries(connection, site_model.id, manual.id):
            start, stop = str(entry["period_start"]), str(entry["period_end"])
            if start[:6] == stop[:6]:
                month = f"{start[:4]}-{start[4:6]}"
                out[month] = out.get(month, 0.0) + float(entry["value"]) * scale
    return out


def _bucket_value(row: dict[str, Any], kind: str, hours: float, as_energy: bool) -> float | None:
    """A bucket's amount: a counter's delta or sum, else the mean (× the bucket's hours
    when ``as_energy``: a power point's energy)."""
    if kind == "total_increasing":
        return row.get("delta")
    if kind == "total":
        return row.get("sum")
    mean = row.get("mean")
    if mean is None:
        return None
    return float(mean) * hours if as_energy else float(mean)


def point_series(
    connection: Any,
    site: str,
    point: str,
    start: dt.date,
    end: dt.date,
    resolution: Resolution,
    *,
    as_energy: bool,
) -> dict[str, float]:
    """``{period: value}`` per local day or month in [start, end) of a stored point: a
    counter's amount, else its mean (energy: × the bucket's hours, kW → kWh)."""
    info = point_info(connection, site, point)
    zone = ZoneInfo(info.timezone)
    lo = dt.datetime.combine(start, dt.time(), zone)
    hi = dt.datetime.combine(end, dt.time(), zone)
    out: dict[str, float] = {}
    for row in series(connection, site, point, lo, hi, resolution):
        period = str(row["period"])
        if resolution == "day":
            hours = 24.0
        else:
            i = months.index(period)
            hours = 24.0 * (months.first_day(i + 1) - months.first_day(i)).days
        value = _bucket_value(row, info.kind, hours, as_energy)
        if value is not None:
            out[period] = float(value)
    return out


def class_days(
    connection: Any, site_model: Any, device_class: str, start: dt.date, end: dt.date
) -> dict[str, float]:
    """``{YYYY-MM-DD: kWh}`` summed over the site's devices of ``device_class`` (each from
    its energy counter, else its mean power × 24 h), on the days every one of them reports.

    Raises
    ------
    InputError
        No device of the class, or none with energy data.
    """
    zone = ZoneInfo(site_model.timezone)
    lo = dt.datetime.combine(start, dt.time(), zone)
    hi = dt.datetime.combine(end, dt.time(), zone)
    devices = [d for _, d in site_model.iter_devices() if d.device_class == device_class]
    if not devices:
        known = sorted({d.device_class for _, d in site_model.iter_devices()})
        raise InputError(
            f"no device of class {device_class!r} in {site_model.id!r}; "
            f"classes: {', '.join(known)}",
            field="class",
        )
    found = [device_days(connection, site_model.id, d, lo, hi) for d in devices]
    per_device = [dict(zip((x.isoformat() for x in f[0]), f[1], strict=True)) for f in found if f]
    if not per_device:
        raise InputError(f"no energy data for the {device_class!r} devices", field="class")
    common = set.intersection(*(set(s) for s in per_device))
    return {day: float(sum(s[day] for s in per_device)) for day in sorted(common)}
