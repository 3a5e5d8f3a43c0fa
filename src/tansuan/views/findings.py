"""Findings of a site read from the store: devices running off shift, idling, far from
their class peers or degrading, and zones heated and cooled at once — ranked by yearly
cost, with each finding's evidence series (shared by the API, the dashboard and
``tansuan findings``).

The detection and valuation are :mod:`tansuan.analytics.findings`; this module reads each
device's energy (:mod:`tansuan.views.energy`) and turns the ranked findings into records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from tansuan.analytics.cusum import decision_interval
from tansuan.analytics.findings import (
    Costed,
    Finding,
    ShiftCalendar,
    Valuation,
    degradation_finding,
    idling,
    off_shift,
    peer_outliers,
    rank,
    simultaneous_heating_cooling,
)
from tansuan.analytics.reference import grid_factor
from tansuan.errors import InputError
from tansuan.views.energy import Rollups, device_days, device_hours, device_output

#: Hourly energy [kWh] per device (or zone): local naive hour stamps and values.
Hourly = dict[str, tuple[list[dt.datetime], np.ndarray]]


def pick_valuation(
    settings: Any,
    tariff: float | None,
    factor: float | None,
    carbon_price: float | None,
    on: dt.date,
) -> tuple[Valuation, str]:
    """Tariff, factor and carbon price as given, else the settings (the factor else the
    shipped grid factor on ``on``), and the factor's source."""
    tariff = settings.energy_tariff if tariff is None else tariff
    if tariff is None:
        raise InputError(
            "请输入电价 / give `tariff` [money/kWh] or set TANSUAN_ENERGY_TARIFF", field="tariff"
        )
    value, source = grid_factor(settings.findings_factor_t_per_mwh, factor, on)
    price = settings.carbon_price if carbon_price is None else carbon_price
    return Valuation(tariff, value, price), source


def site_findings(
    connection: Any,
    site_model: Any,
    start: dt.date,
    end: dt.date,
    calendar: ShiftCalendar,
    valuation: Valuation,
    *,
    standby_kw: float = 0.0,
    idle_fraction: float = 0.2,
    peer_tolerance: float = 0.2,
    baseline_days: int = 56,
    advance: Callable[[], None] | None = None,
) -> tuple[list[Costed], Hourly]:
    """Every finding of a site over [start, end), ranked by yearly cost, with each
    device's (or zone's) hourly energy [kWh] (the evidence series).

    Off-shift, idling and peer findings look at the window; a degradation is a CUSUM of
    daily energy against each device's baseline over the ``baseline_days`` before the
    window (0: none), driven by the median of its class peers (at least 3), else by working
    day or not in ``calendar``; meters are left out (they measure other devices, whose
    waste would count twice);
    simultaneous heating and cooling pairs, per area, the devices tagged ``hvac:heating``
    with those tagged ``hvac:cooling``.
    """
    if end <= start:
        raise InputError("时间窗为空 / the window is empty: 'to' must be after 'from'", field="to")
    zone = ZoneInfo(site_model.timezone)
    lo = dt.datetime.combine(start, dt.time(), zone)
    hi = dt.datetime.combine(end, dt.time(), zone)
    early = lo - dt.timedelta(days=baseline_days)
    found: list[Finding] = []
    peers: dict[str, dict[str, tuple[float, float]]] = {}
    hourly: Hourly = {}
    hvac: dict[str, dict[str, list[tuple[list[dt.datetime], np.ndarray]]]] = {}
    by_class: dict[str, dict[str, tuple[list[dt.date], np.ndarray]]] = {}
    devices = [(path, d) for path, d in site_model.iter_devices() if d.device_class != "meter"]
    # Every device's rollups in two queries (one per device and kind made 300 devices slow).
    cache = Rollups(connection, site_model.id, [d for _, d in devices], lo, hi, early, zone)
    for path, device in site_model.iter_devices():
        if advance is not None:
            advance()
        if device.device_class == "meter":
            continue  # a meter measures other devices: its findings would count them twice
        if baseline_days and (
            daily := device_days(connection, site_model.id, device, early, hi, cache)
        ):
            by_class.setdefault(device.device_class, {})[device.id] = daily
        hours = device_hours(connection, site_model.id, device, lo, hi, zone, cache)
        if hours is None:
            continue
        hourly[device.id] = hours
        stamps, kwh = hours
        for tag in device.tags:
            if tag in ("hvac:heating", "hvac:cooling") and path:
                hvac.setdefault(path[-1], {}).setdefault(tag[5:], []).append(hours)
        output = device_output(connection, site_model.id, device, lo, hi, cache)
        if output is not None:
            peers.setdefault(device.device_class, {})[device.id] = (float(kwh.sum()), output)
        if (f := off_shift(device.id, stamps, kwh, calendar, standby_kw=standby_kw)) is not None:
            found.append(f)
        if device.rated_power_kw:
            f = idling(device.id, stamps, kwh, calendar, rated_kw=device.rated_power_kw,
                       idle_fraction=idle_fraction)  # fmt: skip
            if f is not None:
                found.append(f)
    # Many devices watched at once: h is raised so that the whole site expects at most
    # the table's budget of false degradation alarms over the window.
    watched = sum(len(group) for group in by_class.values()) * (end - start).days
    h = decision_interval(max(watched, 1))
    for group in by_class.values():
        medians = _peer_medians(group)
        for device_id, (days, kwh) in group.items():
            median = medians[device_id]
            f = degradation_finding(device_id, days, kwh, calendar=calendar, peers_kwh=median,
                                    h=h, baseline_days=sum(d < start for d in days))  # fmt: skip
            if f is not None:
                found.append(f)
    for area, roles in hvac.items():
        if "heating" in roles and "cooling" in roles:
            stamps, heat, cool = _aligned(roles["heating"], roles["cooling"])
            f = simultaneous_heating_cooling(area, stamps, heat, cool, min_kwh=standby_kw)
            if f is not None:
                found.append(f)
                hourly[area] = (stamps, np.minimum(heat, cool))
    window_h = (hi - lo).total_seconds() / 3600.0
    for members in peers.values():
        if len(members) >= 3:
            found += peer_outliers(members, observed_hours=window_h, tolerance=peer_tolerance)
    return rank(found, valuation), hourly


def _peer_medians(
    group: dict[str, tuple[list[dt.date], np.ndarray]],
) -> dict[str, np.ndarray | None]:
    """For each device of a class, the median daily kWh of the others on each of its days;
    None with fewer than 3 peers or a day on which fewer than 3 of them report."""
    names = list(group)
    days = sorted({day for own, _ in group.values() for day in own})
    column = {d: j for j, d in enumerate(days)}
    matrix = np.full((len(names), len(days)), np.nan)
    for i, name in enumerate(names):
        own_days, kwh = group[name]
        matrix[i, [column[d] for d in own_days]] = kwh
    out: dict[str, np.ndarray | None] = {}
    for i, name in enumerate(names):
        cols = [column[d] for d in group[name][0]]
        others = np.delete(matrix, i, axis=0)[:, cols]
        if len(names) < 4 or (np.sum(~np.isnan(others), axis=0) < 3).any():
            out[name] = None
            continue
        out[name] = np.nanmedian(others, axis=0)
    return out


def _aligned(
    heating: list[tuple[list[dt.datetime], np.ndarray]],
    cooling: list[tuple[list[dt.datetime], np.ndarray]],
) -> tuple[list[dt.datetime], np.ndarray, np.ndarray]:
    """Hourly heating and cooling energy of a zone summed over its devices, on the hours
    both sides report."""

    def total(series: list[tuple[list[dt.datetime], np.ndarray]]) -> dict[dt.datetime, float]:
        out: dict[dt.datetime, float] = {}
        for stamps, kwh in series:
            for t, v in zip(stamps, kwh, strict=True):
                out[t] = out.get(t, 0.0) + float(v)
        return out

    heat, cool = total(heating), total(cooling)
    stamps = sorted(set(heat) & set(cool))
    return stamps, np.array([heat[t] for t in stamps]), np.array([cool[t] for t in stamps])


def _figures(item: Costed) -> dict[str, Any]:
    """What every record of a ranked finding starts with: who, what, how much it costs."""
    f = item.finding
    return {
        "device": f.device,
        "kind": f.kind,
        "waste_kwh": f.waste_kwh,
        "annual_kwh": item.annual_kwh,
        "annual_tco2e": item.annual_tco2e,
        "annual_cost": item.annual_cost,
        "message": f.message,
    }


_LABELS: dict[dt.datetime, str] = {}


def _hour_labels(stamps: list[dt.datetime]) -> list[str]:
    """``YYYY-MM-DDTHH`` of each hour stamp (memoised: every device has the same hours)."""
    if len(_LABELS) > 100_000:
        _LABELS.clear()
    out = []
    for stamp in stamps:
        label = _LABELS.get(stamp)
        if label is None:
            label = _LABELS[stamp] = stamp.strftime("%Y-%m-%dT%H")
        out.append(label)
    return out


def finding_record(item: Costed, hourly: Hourly | None = None) -> dict[str, Any]:
    """A ranked finding as JSON, with its evidence chart series when ``hourly`` is given:
    the device's hourly kWh and the hours the finding flags, or for a degradation the
    daily kWh against the baseline and the CUSUM."""
    f = item.finding
    flagged = [str(h)[:13] for h in f.evidence.get("hours", [])]
    out = _figures(item) | {"flagged_hours": flagged}
    if f.kind == "peer_outlier":
        out["evidence"] = {
            "specific": float(f.evidence.get("specific", 0.0)),
            "median": float(f.evidence.get("median", 0.0)),
        }
    elif f.kind == "degradation":
        ev = f.evidence
        out["start"] = ev["start"].isoformat()
        if hourly is None:  # daily series: only with the hourly evidence
            return out
        out["evidence"] = {
            "days": [d.isoformat() for d in ev["days"]],
            "actual": [round(float(v), 6) for v in ev["actual"]],
            "expected": [round(float(v), 6) for v in ev["expected"]],
            "cusum": [round(float(v), 6) for v in ev["cusum"]],
            "start": ev["start"].isoformat(),
        }
    elif hourly is not None and f.device in hourly:
        stamps, kwh = hourly[f.device]
        marks = set(flagged)
        labels = _hour_labels(stamps)
        out["evidence"] = {
            "hours": labels,
            "kwh": np.round(np.asarray(kwh, dtype=float), 6).tolist(),
            "flagged": [label in marks for label in labels],
        }
    return out


def findings_report(
    connection: Any,
    site_model: Any,
    start: dt.date,
    end: dt.date,
    calendar: ShiftCalendar,
    value: Valuation,
    *,
    baseline_days: int,
    evidence: bool,
    fine: bool,
    evidence_of: int | None = None,
) -> list[dict[str, Any]]:
    """The ranked findings of a site as records (:func:`finding_record`): with their
    evidence series when ``evidence`` and ``fine`` (the reader may see hourly data) — only
    the ``evidence_of``-th record's when given (the page shows one chart) —, and without
    the flagged hours when not ``fine`` (they are hourly data)."""
    ranked, hourly = site_findings(connection, site_model, start, end, calendar, value,
                                   baseline_days=baseline_days)  # fmt: skip
    series = hourly if evidence and fine else None
    records = [
        finding_record(c, series if evidence_of is None or i == evidence_of else None)
        for i, c in enumerate(ranked)
    ]
    if not fine:
        for record in records:
            record.pop("flagged_hours")
    return records


def cli_record(item: Costed) -> dict[str, Any]:
    """A ranked finding as ``tansuan findings --json`` prints it: the figures and up to 50
    of the flagged hours, with the start of a degradation."""
    f = item.finding
    out = _figures(item) | {"evidence_hours": [str(h) for h in f.evidence.get("hours", [])[:50]]}
    return out | ({"start": str(f.evidence["start"])} if f.kind == "degradation" else {})
