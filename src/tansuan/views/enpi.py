"""The EnPI report of a site and its lines (ISO 50006), read from the store: each node's
boundary meters' daily energy, its output, the specific consumption per month and the
normalised EnPI (``GET /enpi``, ``/insights/enpi``, ``tansuan enpi``).

Boundaries and the normalised EnPI are :mod:`tansuan.analytics.enpi`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from tansuan.analytics.counters import output_counters
from tansuan.analytics.enpi import (
    boundary,
    month_of,
    nodes,
    normalised,
    output_unit,
    whole_months,
)
from tansuan.analytics.findings import ShiftCalendar
from tansuan.domain import units
from tansuan.errors import InputError, NotFound
from tansuan.store.queries import series
from tansuan.views.energy import monthly_series


def boundary_days(
    connection: Any, site_model: Any, points: list[Any], lo: dt.date, hi: dt.date
) -> dict[str, float]:
    """``{YYYY-MM-DD: kWh}`` summed over ``points`` (each day's counter delta or sum)."""
    zone = ZoneInfo(site_model.timezone)
    start = dt.datetime.combine(lo, dt.time(), zone)
    end = dt.datetime.combine(hi, dt.time(), zone)
    out: dict[str, float] = {}
    for point in points:
        column = "delta" if point.kind == "total_increasing" else "sum"
        scale = units.factor(point.unit, "kWh")
        for row in series(connection, site_model.id, point.id, start, end, "day"):
            if row.get(column) is not None:
                day = str(row["period"])[:10]
                out[day] = out.get(day, 0.0) + float(row[column]) * scale
    return out


def line_output(
    connection: Any, site_model: Any, node: str, lo: dt.date, hi: dt.date
) -> dict[str, float]:
    """``{YYYY-MM: output}`` of the production/output counters of the devices under a
    line (in their own unit; the first point's unit names it)."""
    zone = ZoneInfo(site_model.timezone)
    start = dt.datetime.combine(lo, dt.time(), zone)
    end = dt.datetime.combine(hi, dt.time(), zone)
    out: dict[str, float] = {}
    for path, device in site_model.iter_devices():
        if node not in path:
            continue
        for point in output_counters(device):
            column = "delta" if point.kind == "total_increasing" else "sum"
            for row in series(connection, site_model.id, point.id, start, end, "day"):
                if row.get(column) is not None:
                    month = month_of(str(row["period"]))
                    out[month] = out.get(month, 0.0) + float(row[column])
    return out


def enpi_report(
    connection: Any,
    site_model: Any,
    start: dt.date,
    end: dt.date,
    baseline_end: dt.date,
    calendar: ShiftCalendar,
) -> dict[str, Any]:
    """The EnPIs of the site and its lines over [start, end), baseline before ``baseline_end``.

    Raises
    ------
    InputError
        The window is empty or ``baseline_end`` is not inside it.
    NotFound
        No energy meter under the site.
    """
    if not start < baseline_end < end:
        raise InputError(
            "基准期须在时间窗内 / 'baseline_end' must fall between 'from' and 'to'",
            field="baseline_end",
        )
    out = []
    for node, kind, name in nodes(site_model):
        points = boundary(site_model, node)
        days = boundary_days(connection, site_model, points, start, end) if points else {}
        if not days:
            if kind == "site":
                raise NotFound(
                    f"没有能耗表数据 / no energy meter data for {site_model.id!r} in the window"
                )
            continue
        if kind == "site":
            output = monthly_series(connection, site_model, "production")
        else:
            output = line_output(connection, site_model, node, start, end)
        months: dict[str, float] = {}
        for day, kwh in days.items():
            months[month_of(day)] = months.get(month_of(day), 0.0) + kwh
        unit = output_unit(site_model, node)
        whole = whole_months(start, end)
        rows = [
            {
                "month": m,
                "kwh": kwh,
                "partial": m not in whole,
                "output": output.get(m),
                # A month cut by the window would set part of its energy against the whole
                # month's recorded output (a line's counters cover the same days: fine).
                "specific": kwh / output[m]
                if output.get(m) and (m in whole or kind != "site")
                else None,
            }
            for m, kwh in sorted(months.items())
        ]
        out.append({"node": node, "kind": kind, "name": name, "output_unit": unit,
                    "meters": [p.id for p in points], "months": rows,
                    **normalised(days, baseline_end, calendar)})  # fmt: skip
    return {
        "site": site_model.id,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "baseline_end": baseline_end.isoformat(),
        "nodes": out,
    }
