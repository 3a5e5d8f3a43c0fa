"""The inputs of an accounting run: activity data, parameters and hourly CEMS arrays.

Each function reads what one source needs for one month from a :class:`Context` (the
run's connection and everything read once per run) and returns it with where it came
from: points with reading counts and coverage, manual entries with their document
references, gaps filled by the source's rule (:mod:`.gaps`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tansuan.accounting import data, gaps
from tansuan.accounting.method_inputs import Hourly
from tansuan.accounting.periods import Period
from tansuan.domain import units
from tansuan.domain.catalog import shipped_catalog
from tansuan.domain.result import Origin
from tansuan.errors import ConfigError, NotFound
from tansuan.site.model import EmissionSource, GapFill, Series, SeriesKind, Site
from tansuan.store.timeutil import HOUR_US, from_us, to_us

#: Series kinds whose entries are amounts over their period (summed, pro rata by days).
AMOUNT_KINDS = frozenset(
    {
        SeriesKind.fuel_purchase,
        SeriesKind.fuel_consumption,
        SeriesKind.production,
        SeriesKind.electricity_purchase,
        SeriesKind.heat_purchase,
        SeriesKind.green_certificate,
        SeriesKind.other,
    }
)
#: Stock changes are subtracted: consumption = purchases − increase of stock.
SUBTRACTED_KINDS = frozenset({SeriesKind.stock_change})
#: Lab analyses are properties of the fuel in the month (averaged, not summed).
PROPERTY_KINDS = frozenset(
    {SeriesKind.lab_ncv, SeriesKind.lab_carbon_content, SeriesKind.lab_carbon_per_heat}
)
#: Market-based instruments: their presence adds a Scope 2 market-based line.
MARKET_KEYS = ("green_certificates", "green_power_contracts", "contracts", "residual_factor")
#: Fraction of a point's expected readings an hour needs to count as valid: HJ 212-2017
#: App. D eq. (24) asks 45 of the hour's 60 minute values (``cems.min_minutes_per_hour``
#: in data/cems.csv); tansuan applies the same share to any reading interval.
HOUR_VALID_SHARE = shipped_catalog().constant(
    "cems_constant", "min_minutes_per_hour"
).value / units.factor("h", "min")
#: Flue-gas conditions a CEMS source may take from points, hour by hour
#: (HJ 212-2017 App. D eqs. (18), (19), (31)).
CEMS_HOURLY = frozenset({"moisture", "flue_temperature", "ambient_pressure", "static_pressure"})
#: Longest gap [h] the ``interpolate`` rule bridges for hourly data.
MAX_INTERPOLATED_HOURS = 6


@dataclass(frozen=True)
class Activity:
    """One month's activity amount for a source, with where it came from."""

    value: float | None  #: None when no data at all and no rule could fill it
    unit: str
    coverage: float
    substituted_share: float
    sources: tuple[dict[str, Any], ...]
    notes: tuple[str, ...] = ()
    missing_share: float = 0.0  #: share of slots (hours) still missing after gap filling


@dataclass
class Context:
    """What one accounting run reads: the connection, the site, its points and series,
    the month statistics of its meters and the manual entries, read once per run."""

    conn: Any
    site: Site
    site_db: int
    points: dict[str, data.PointRow]
    series: dict[str, Series]
    stats: dict[tuple[int, str], data.MonthStats]
    entries: dict[str, dict[str, list[tuple[data.Entry, float]]]]
    months: list[Period]

    def spread(self, key: str) -> dict[str, list[tuple[data.Entry, float]]]:
        if key not in self.entries:
            self.entries[key] = data.spread(
                data.series_entries(self.conn, self.site.id, key), self.months
            )
        return self.entries[key]


def activity(
    ctx: Context, source: EmissionSource, month: Period, previous: list[float]
) -> Activity:
    if not source.activity:
        raise ConfigError("the source names no activity data", field=f"{source.id}.activity")
    unit: str | None = None
    total = 0.0
    seen_any = False
    coverages: list[float] = []
    substituted: list[float] = []
    origins: list[dict[str, Any]] = []
    notes: list[str] = []
    for ref in source.activity:
        value: float | None
        if ref.point is not None:
            value, ref_unit, coverage, share, origin = point_amount(ctx, source, ref.point, month)
            coverages.append(coverage)
            substituted.append(share)
        elif ref.series is not None:
            value, ref_unit, origin = series_amount(ctx, ref.series, month)
        else:
            value = units.magnitude(ref.value or 0, unit_of(ref.value), field=source.id)
            ref_unit = unit_of(ref.value)
            origin = {"value": ref.value, "origin": Origin.INPUT.value}
        origins.append(origin)
        if value is None:
            continue
        seen_any = True
        if unit is None:
            unit = ref_unit
        total += value * units.factor(ref_unit, unit)
    coverage = float(np.mean(coverages)) if coverages else 1.0
    share = float(np.mean(substituted)) if substituted else 0.0
    if not seen_any:
        unit = unit or activity_unit(ctx, source)
        # No data is missing, never a guess: no rule invents a month (site validation
        # refuses ``previous_average`` and ``default``); the engine records it as missing.
        return Activity(None, unit, coverage, 0.0, tuple(origins), tuple(notes))
    assert unit is not None
    hourly = [o for o in origins if o.get("rollup") == "hour" and o.get("hours")]
    missing = float(np.mean([o["missing_hours"] / o["hours"] for o in hourly])) if hourly else 0.0
    return Activity(
        total, unit, coverage, share, tuple(origins), tuple(notes), missing_share=missing
    )


def activity_unit(ctx: Context, source: EmissionSource) -> str:
    for ref in source.activity:
        if ref.point is not None and ref.point in ctx.points:
            return ctx.points[ref.point].unit
        if ref.series is not None and ref.series in ctx.series:
            return ctx.series[ref.series].unit
    return "t"


def point_amount(
    ctx: Context, source: EmissionSource, key: str, month: Period
) -> tuple[float | None, str, float, float, dict[str, Any]]:
    point = ctx.points.get(key)
    if point is None:
        raise NotFound(f"point {key!r} is not loaded in the store", field=source.id)
    start, end = month.utc_bounds(ctx.site.timezone)
    expected = (end - start).total_seconds() / point.interval_s
    if point.kind != "instantaneous":
        stats = ctx.stats.get((point.id, month.label))
        origin: dict[str, Any] = {"point": key, "rollup": "day", "unit": point.unit}
        if stats is None or stats.n == 0:
            origin.update(n=0, expected=expected)
            return None, point.unit, 0.0, 0.0, origin
        delta = stats.delta if stats.delta is not None else stats.sum
        origin.update(n=stats.n, expected=expected, value=delta, resets=stats.resets)
        return delta, point.unit, min(1.0, stats.n / expected), 0.0, origin
    # A rate (kW, t/h): integrate hourly means over the month.
    _, filled, origin, coverage = hourly(ctx, source, key, month)
    hours = filled.values[~np.isnan(filled.values)]
    unit = f"({point.unit})*h"
    if hours.size == 0:
        return None, unit, coverage, 0.0, origin
    value = float(hours.sum())
    origin["value"] = value
    return value, unit, coverage, filled.substituted_share, origin


def series_amount(
    ctx: Context, key: str, month: Period
) -> tuple[float | None, str, dict[str, Any]]:
    series = ctx.series.get(key)
    if series is None:
        raise NotFound(f"no series {key!r} in site {ctx.site.id!r}")
    spread = ctx.spread(key)
    parts = spread.get(month.label, [])
    origin: dict[str, Any] = {
        "series": key,
        "kind": series.kind.value,
        "unit": series.unit,
        "entries": [
            {
                "from": e.start.isoformat(),
                "to": e.end.isoformat(),
                "value": e.value,
                "document": e.document_ref,
                "version": e.version,
                "share": round(share, 6),
            }
            for e, share in parts
        ],
    }
    if not parts:
        return None, series.unit, origin
    sign = -1.0 if series.kind in SUBTRACTED_KINDS else 1.0
    if series.kind in PROPERTY_KINDS:
        value = float(np.mean([e.value for e, _ in parts]))
    else:
        value = sign * sum(e.value * share for e, share in parts)
    origin["value"] = value
    return value, series.unit, origin


def cems_inputs(
    ctx: Context, source: EmissionSource, month: Period, typed: dict[str, object]
) -> Activity:
    """Hourly arrays for a CEMS source: concentration and flow (the activity), plus the
    flue-gas conditions given as points (moisture, temperature, pressures), hour by hour.

    An hour is valid with ≥ 45/60 of its expected readings with valid flags (flags
    F, M, D, C, B are invalid at ingest); invalid hours are filled by the source's
    rule (HJ 75-2017 §11–12 [M] substitution by default, with the hours around the month:
    :func:`hourly`); hours still missing in any array are left out, and the result says
    how many.
    """
    if len(source.activity) != 2 or not all(r.point for r in source.activity):
        raise ConfigError(
            "a CEMS source needs two point activities: [concentration, flow]",
            field=f"{source.id}.activity",
        )
    wanted = [
        (key, ref.point)
        for key, ref in zip(("concentration", "flow"), source.activity, strict=True)
    ]
    wanted += [
        (name, ref.point)
        for name, ref in source.parameters.items()
        if name in CEMS_HOURLY and ref.point is not None
    ]
    arrays = []
    origins = []
    shares = []
    coverages = []
    for key, point_key in wanted:
        assert point_key is not None
        unit, filled, origin, coverage = hourly(ctx, source, point_key, month, default_rule="cems")
        arrays.append((key, unit, filled))
        origins.append(origin)
        if key in ("concentration", "flow"):
            shares.append(filled.substituted_share)
            coverages.append(coverage)
    usable = np.ones(arrays[0][2].values.shape, dtype=bool)
    for _, _, filled in arrays:
        usable &= ~np.isnan(filled.values)
    for key, unit, filled in arrays:
        values = filled.values[usable].tolist() if usable.any() else [0.0]
        typed[key] = Hourly(tuple(values), unit)
    notes: tuple[str, ...] = ()
    missing = int((~usable).sum())
    if missing:
        notes = (f"{month.label}: {missing} 小时无有效数据 / hours without valid data",)
    return Activity(
        float(usable.sum()),
        "h",
        float(np.mean(coverages)),
        float(np.max(shares)),
        tuple(origins),
        notes,
        missing_share=missing / usable.size if usable.size else 1.0,
    )


def hourly(
    ctx: Context,
    source: EmissionSource,
    key: str,
    month: Period,
    *,
    default_rule: str = "",
) -> tuple[str, gaps.Filled, dict[str, Any], float]:
    """A point's hourly means over the month, invalid hours filled by the source's rule.

    For the HJ 75 rule (``cems_conservative``, HJ 75-2017 §11–12 [M]) the hours around
    the month are read too: back to the 720th valid hour before the month (the
    look-back, reaching into earlier months and years as far as needed) and forward to
    the first valid hour after it, at most ``short_gap + 1`` hours (24 + 1 h) — so a gap
    crossing a month or year boundary is judged and filled the same way from both
    months, and each month books only its own hours.

    Returns the point's unit, the filled series, its origin for the trace (with each
    filled gap: its hours, rule, value and the window the value came from — only what
    decided a value, so that data read around the month but not used never makes a new
    result version) and the share of valid hours.
    """
    point = ctx.points.get(key)
    if point is None:
        raise NotFound(f"point {key!r} is not loaded in the store", field=source.id)
    start, end = month.utc_bounds(ctx.site.timezone)
    lo, hi = to_us(start), to_us(end)
    min_valid = int(np.ceil(HOUR_VALID_SHARE * 3600 / point.interval_s))
    hj75 = uses_hj75(source, default_rule)
    read_lo, read_hi, resumes = lo, hi, True
    if hj75:
        read_lo, read_hi, resumes = hj75_window(ctx, point.id, lo, hi, min_valid)
    means, valid = data.hourly_means(
        ctx.conn, ctx.site_db, point.id, from_us(read_lo), from_us(read_hi)
    )
    series = np.where(valid < min_valid, np.nan, means)
    first = (lo - read_lo) // HOUR_US
    last = first + (hi - lo) // HOUR_US
    values = series[first:last]
    invalid = np.isnan(values)
    origin: dict[str, Any] = {"point": key, "rollup": "hour", "unit": point.unit}
    if hj75:
        filled = gaps.fill_cems_conservative(values, series[:first], series[last:], resumes=resumes)
    else:
        filled = fill(source.gap_fill, values)
    origin.update(
        hours=int(values.size),
        valid_hours=int((~invalid).sum()),
        substituted_hours=int(filled.substituted.sum()),
        missing_hours=int(np.isnan(filled.values).sum()),
        rule=filled.rule,
    )
    if filled.steps:
        read_end = int(series.size - first)  # the end of the hours read, from the month
        origin["fills"] = [_step_trace(step, lo, values.size, read_end) for step in filled.steps]
    coverage = float((~invalid).mean()) if invalid.size else 0.0
    return point.unit, filled, origin, coverage


def uses_hj75(source: EmissionSource, default_rule: str = "") -> bool:
    """Whether the source's hourly gaps are filled by HJ 75 (its rule, or a CEMS default)."""
    return source.gap_fill == GapFill.cems_conservative or (
        source.gap_fill == GapFill.none and default_rule == "cems"
    )


def hj75_window(
    ctx: Context, point_id: int, lo: int, hi: int, min_valid: int
) -> tuple[int, int, bool]:
    """The hours [µs] to read around a month ``[lo, hi)`` for HJ 75 filling.

    Back to the ``cems.lookback_valid_hours``-th valid hour before ``lo`` (HJ 75-2017
    §11–12 [M]: 720 h); forward to the first valid hour at or after ``hi``, if it lies
    within ``cems.short_gap_hours + 1`` hours (25 h), else that many hours. The flag says
    whether valid data follow at all: a gap with nothing after it is data not yet
    received, left missing.
    """
    start = data.lookback_start(
        ctx.conn, ctx.site_db, point_id, lo, min_valid, gaps.LOOKBACK_VALID_HOURS
    )
    following = data.next_valid_hour(ctx.conn, ctx.site_db, point_id, hi, min_valid)
    reach = hi + (gaps.SHORT_GAP_HOURS + 1) * HOUR_US
    read_lo = lo if start is None else min(lo, start)
    if following is None:
        return read_lo, reach, False
    return read_lo, min(following + HOUR_US, reach), True


def _step_trace(step: gaps.GapStep, lo: int, hours: int, read_end: int) -> dict[str, Any]:
    """One filled gap for the trace: its whole extent, the month's share of it, the rule,
    the value and the window [UTC hours, end exclusive] the value came from.

    A long gap that goes on past the hours read after the month (``read_end``, an index
    from the month's first hour) says ``continues``: its ``to`` and ``gap_hours`` are then
    lower bounds (its value depends only on the hours before it)."""

    def at(index: int) -> str:
        return from_us(lo + index * HOUR_US).isoformat()

    own = min(step.end, hours) - max(step.start, 0)
    out: dict[str, Any] = {
        "from": at(step.start),
        "to": at(step.end),
        "gap_hours": step.hours,
        "hours_in_period": own,
        "rule": f"HJ 75-2017 {step.rule}",
        "value": step.value,
        "window": {
            "from": at(step.window[0]),
            "to": at(step.window[1]),
            "valid_hours": step.window_valid_hours,
        },
    }
    if step.end >= read_end:
        out["continues"] = True
    return out


def fill(rule: GapFill, values: np.ndarray) -> gaps.Filled:
    """Hourly values filled by a non-HJ 75 rule (``interpolate`` or none)."""
    if rule == GapFill.interpolate:
        return gaps.fill_interpolate(values, MAX_INTERPOLATED_HOURS)
    return gaps.Filled(values, np.zeros(values.shape, dtype=bool), "none")


def unit_of(value: str | float | None) -> str:
    if isinstance(value, str):
        parts = value.split(maxsplit=1)
        return parts[1] if len(parts) == 2 else "dimensionless"
    return "dimensionless"
