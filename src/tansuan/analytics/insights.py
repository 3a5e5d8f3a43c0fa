"""The analytics of one site read from the store: findings, savings, emissions forecast and
allowance position — shared by the CLI and the web API / dashboard.

Every function takes an open store connection (or the store) and the site model, so the
web app reads through its own store and the CLI through ``Store()``; the arithmetic is in
:mod:`~tansuan.analytics.findings`, :mod:`~tansuan.analytics.savings`,
:mod:`~tansuan.analytics.forecast` and :mod:`tansuan.market.position`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from tansuan.analytics.baseline import day_type_drivers, fit_baseline, summary
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
from tansuan.analytics.forecast import (
    WorkingDays,
    best_model,
    calendar_drivers,
    run,
    year_outlook,
    year_total,
)
from tansuan.analytics.savings import avoided_energy
from tansuan.errors import InputError, NotFound

# --- findings ---------------------------------------------------------------------------


def energy_counters(device: Any) -> list[Any]:
    """The device's energy points that count (``total``/``total_increasing``)."""
    return [p for p in device.points if p.quantity == "energy" and p.kind != "instantaneous"]


def output_counters(device: Any) -> list[Any]:
    """The device's production/output points that count (``total``/``total_increasing``)."""
    return [p for p in device.points
            if p.quantity in ("production", "output") and p.kind != "instantaneous"]  # fmt: skip


def device_hours(
    connection: Any, site: str, device: Any, lo: dt.datetime, hi: dt.datetime, zone: Any
) -> tuple[list[dt.datetime], np.ndarray] | None:
    """Hourly energy [kWh] of a device (local naive hour stamps): from an energy point
    (``total``/``total_increasing``), else the hourly mean of a power point [kW]."""
    from tansuan.domain import units
    from tansuan.store.queries import series

    energy = energy_counters(device)
    power = [p for p in device.points if p.quantity == "power"]
    candidates = [(p, "kWh", "delta" if p.kind == "total_increasing" else "sum") for p in energy]
    candidates += [(p, "kW", "mean") for p in power]
    for point, target, column in candidates:
        scale = units.factor(point.unit, target)
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
    connection: Any, site: str, device: Any, lo: dt.datetime, hi: dt.datetime
) -> tuple[list[dt.date], np.ndarray] | None:
    """Daily energy [kWh] of a device per local day in [lo, hi): the counter's delta (or
    the sum), else the day's mean power [kW] × 24 h. Days with fewer readings than 80 % of
    the device's usual count (partial days) are left out."""
    from tansuan.domain import units
    from tansuan.store.queries import series

    energy = energy_counters(device)
    power = [p for p in device.points if p.quantity == "power"]
    candidates = [(p, "kWh", "delta" if p.kind == "total_increasing" else "sum", 1.0)
                  for p in energy] + [(p, "kW", "mean", 24.0) for p in power]  # fmt: skip
    for point, target, column, hours in candidates:
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
    connection: Any, site: str, device: Any, lo: dt.datetime, hi: dt.datetime
) -> float | None:
    """Total output over the window of the device's production point (quantity
    ``production`` or ``output``, kind ``total``/``total_increasing``), if it has one."""
    from tansuan.store.queries import series

    for point in output_counters(device):
        column = "delta" if point.kind == "total_increasing" else "sum"
        rows = series(connection, site, point.id, lo, hi, "day")
        total = sum(float(r[column]) for r in rows if r.get(column) is not None)
        return total if total > 0 else None
    return None


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
) -> tuple[list[Costed], dict[str, tuple[list[dt.datetime], np.ndarray]]]:
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
    hourly: dict[str, tuple[list[dt.datetime], np.ndarray]] = {}
    hvac: dict[str, dict[str, list[tuple[list[dt.datetime], np.ndarray]]]] = {}
    by_class: dict[str, dict[str, tuple[list[dt.date], np.ndarray]]] = {}
    for path, device in site_model.iter_devices():
        if advance is not None:
            advance()
        if device.device_class == "meter":
            continue  # a meter measures other devices: its findings would count them twice
        if baseline_days and (daily := device_days(connection, site_model.id, device, early, hi)):
            by_class.setdefault(device.device_class, {})[device.id] = daily
        hours = device_hours(connection, site_model.id, device, lo, hi, zone)
        if hours is None:
            continue
        hourly[device.id] = hours
        stamps, kwh = hours
        for tag in device.tags:
            if tag in ("hvac:heating", "hvac:cooling") and path:
                hvac.setdefault(path[-1], {}).setdefault(tag[5:], []).append(hours)
        output = device_output(connection, site_model.id, device, lo, hi)
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


def finding_record(
    item: Costed, hourly: dict[str, tuple[list[dt.datetime], np.ndarray]] | None = None
) -> dict[str, Any]:
    """A ranked finding as JSON, with its evidence chart series when ``hourly`` is given:
    the device's hourly kWh and the hours the finding flags, or for a degradation the
    daily kWh against the baseline and the CUSUM."""
    f = item.finding
    flagged = [str(h)[:13] for h in f.evidence.get("hours", [])]
    out: dict[str, Any] = {
        "device": f.device,
        "kind": f.kind,
        "waste_kwh": f.waste_kwh,
        "annual_kwh": item.annual_kwh,
        "annual_tco2e": item.annual_tco2e,
        "annual_cost": item.annual_cost,
        "message": f.message,
        "flagged_hours": flagged,
    }
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
        labels = [s.strftime("%Y-%m-%dT%H") for s in stamps]
        out["evidence"] = {
            "hours": labels,
            "kwh": [round(float(v), 6) for v in kwh],
            "flagged": [label in marks for label in labels],
        }
    return out


# --- savings ----------------------------------------------------------------------------


def node_days(
    connection: Any, site_model: Any, node: str, start: dt.date, end: dt.date
) -> dict[str, float]:
    """``{YYYY-MM-DD: kWh}`` of all energy meters under ``node`` (a line, area or device;
    the site id for the whole site) — the EnPI boundary of ISO 50006."""
    from tansuan.domain import units
    from tansuan.store.queries import aggregate

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


def savings_report(
    days: dict[str, float],
    intervention: dt.date,
    *,
    option: str = "B",
    confidence: float = 0.9,
    factor_t_per_mwh: float | None = None,
) -> dict[str, Any]:
    """IPMVP avoided energy after ``intervention`` from a daily kWh series, with its
    ASHRAE G14 interval and the chart series (actual vs adjusted baseline with band).

    The baseline is the mean daily energy with a weekday/weekend driver when both occur
    before the intervention (no external drivers are read here; the CLI ``tansuan analyse``
    takes any).
    """
    if option not in ("B", "C"):
        raise InputError(f"IPMVP option must be B or C, got {option!r}", field="option")
    order = sorted(days)
    dates = [dt.date.fromisoformat(d) for d in order]
    energy = np.array([days[d] for d in order])
    base = np.array([d < intervention for d in dates])
    if base.sum() < 3 or (~base).sum() < 1:
        raise InputError(
            "改造前至少 3 天、改造后至少 1 天数据 / need at least 3 baseline days before and a "
            "reporting day after the intervention",
            field="intervention",
        )
    fit, every = day_type_drivers(dates, base)
    model = fit_baseline(energy[base], fit)
    rep = {k: v[~base] for k, v in every.items()}
    result = avoided_energy(
        model,
        energy[~base],
        rep,
        option=option,  # type: ignore[arg-type]
        confidence=confidence,
        factor_t_per_unit=None if factor_t_per_mwh is None else factor_t_per_mwh / 1000.0,
    )
    expected = model.predict(rep)
    # The band of the adjusted baseline per day: the interval of the total, spread evenly.
    half = (result.interval[1] - result.interval[0]) / 2.0 / max(1, int((~base).sum()))
    return {
        "intervention": intervention.isoformat(),
        "baseline": summary(model),
        "option": result.option,
        "adjusted_baseline_kwh": result.adjusted_baseline,
        "reporting_kwh": result.reporting,
        "avoided_kwh": result.avoided,
        "fraction": result.fraction,
        "interval_kwh": list(result.interval),
        "fraction_interval": list(result.fraction_interval),
        "confidence": result.confidence,
        "fsu": result.fsu,
        "avoided_tco2e": result.avoided_tco2e,
        "method": result.method,
        "chart": {
            "dates": order,
            "actual_kwh": [float(v) for v in energy],
            "baseline_kwh": [float(v) for v in model.predict(every)],
            "reporting_from": intervention.isoformat(),
            "band_kwh": [float(half)] * len(order),
            "expected_reporting_kwh": [float(v) for v in expected],
        },
    }


# --- emissions forecast -----------------------------------------------------------------


def last_complete_month(zone: Any, now: dt.datetime | None = None) -> str:
    """``YYYY-MM`` of the month before the one under way in ``zone``: the newest month whose
    results cover all of it (forecasts leave the month under way out)."""
    now = now or dt.datetime.now(zone)
    index = now.year * 12 + now.month - 2
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


#: ``plan(history months, future months)`` → (drivers over the history, over the future).
PlanSource = Callable[
    [list[str], list[str]], tuple[dict[str, np.ndarray], dict[str, np.ndarray]] | None
]


def emission_history(connection: Any, site: str, first: str, last: str) -> dict[str, float]:
    """Monthly tCO2e (location-based: Scope 2 market-based lines left out) of a site's
    current accounting results from the first to the last month that has any in
    [first, last]; a month without results in between counts as missing.

    Raises
    ------
    NotFound
        No results at all in the window.
    InputError
        A month without results between two that have them.
    """
    from tansuan.accounting.results import current_lines

    a = int(first[:4]) * 12 + int(first[5:7]) - 1
    b = int(last[:4]) * 12 + int(last[5:7]) - 1
    months = [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(a, b + 1)]
    totals: dict[str, float] = {}
    for line in current_lines(connection, site, months):
        if str(line["scope"]) != "2-market":
            totals[line["period"]] = totals.get(line["period"], 0.0) + line["co2e_g"] / 1e6
    if not totals:
        raise NotFound(
            f"没有核算结果 / no accounting results for {site} in {first}..{last}: "
            "run `tansuan account`"
        )
    span = [m for m in months if min(totals) <= m <= max(totals)]
    if missing := [m for m in span if m not in totals]:
        raise InputError(
            f"缺少核算结果 / no accounting results for {', '.join(missing)}: run `tansuan account`",
            field="site",
        )
    return {m: totals[m] for m in span}


def monthly_series(connection: Any, site_model: Any, kind: str) -> dict[str, float]:
    """``{YYYY-MM: total}`` of the site's manual series of ``kind`` (e.g. ``production``),
    summed over its series in the first one's unit; entries spanning more than one month
    are left out."""
    from tansuan.domain import units
    from tansuan.store.manual import current_entries

    chosen = [s for s in site_model.series if s.kind == kind]
    out: dict[str, float] = {}
    for series in chosen:
        scale = units.factor(series.unit, chosen[0].unit)
        for entry in current_entries(connection, site_model.id, series.id):
            start, stop = str(entry["period_start"]), str(entry["period_end"])
            if start[:6] == stop[:6]:
                month = f"{start[:4]}-{start[4:6]}"
                out[month] = out.get(month, 0.0) + float(entry["value"]) * scale
    return out


def plan_drivers(
    connection: Any, site_model: Any, months: list[str], future: list[str]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]] | None:
    """The production driver: recorded production over ``months`` and the production plan
    over ``future``; None unless both cover every month."""
    done = monthly_series(connection, site_model, "production")
    plan = monthly_series(connection, site_model, "production_plan")
    if not done or not plan or any(m not in done for m in months):
        return None
    if any(m not in plan for m in future):
        return None
    unit = next(s.unit for s in site_model.series if s.kind == "production")
    plan_unit = next(s.unit for s in site_model.series if s.kind == "production_plan")
    from tansuan.domain import units

    scale = units.factor(plan_unit, unit)
    return (
        {"production": np.array([done[m] for m in months])},
        {"production": np.array([plan[m] * scale for m in future])},
    )


def forecast_report(
    history: dict[str, float],
    year: int,
    *,
    level: float = 0.9,
    working_days: WorkingDays | None = None,
    plan: PlanSource | None = None,
) -> dict[str, Any]:
    """Monthly forecast from the month after the history through December of ``year + 1``,
    by the model with the lowest back-test MAE, with intervals and the back-test errors.
    With ``working_days`` (the plant's shift calendar) the calendar regression competes;
    ``plan(history months, future months)`` adds the production and its plan as a driver
    when it covers them (in the back-test the recorded production stands in for the plan).

    Raises
    ------
    InputError
        Fewer than 25 months of history (the back-test needs two seasons and a test).
    """
    months = list(history)
    values = np.array(list(history.values()))
    if len(values) < 25:
        raise InputError(
            f"预测至少需要 25 个月的结果 / a forecast needs at least 25 months of results, "
            f"{len(values)} found",
            field="year",
        )
    last = int(months[-1][:4]) * 12 + int(months[-1][5:7]) - 1
    end = (year + 1) * 12 + 11
    if last >= end:
        raise InputError(
            f"结果已覆盖 {year + 1} 年 / the results already cover {year + 1}", field="year"
        )
    h = end - last
    h_test = min(12, max(1, len(values) - 24))
    future = [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(last + 1, end + 1)]
    past = calendar_drivers(last + 1 - len(values), len(values), working_days) or {}
    ahead = calendar_drivers(last + 1, h, working_days) or {}
    planned = plan(months, future) if plan is not None else None
    if planned is not None:
        past, ahead = past | planned[0], ahead | planned[1]
    winner, tests = best_model(values, h=h_test, min_train=24, drivers=past or None)
    fc = run(winner, values, h, level=level, drivers=past or None, future=ahead or None)
    in_year = [v for m, v in history.items() if int(m[:4]) == year]
    outlook = year_total(year, in_year, fc, last + 1) if last <= year * 12 + 11 else None
    return {
        "model": winner,
        "level": level,
        "drivers": sorted(past),
        "level_shift_from": None if fc.shift_from is None else months[fc.shift_from],
        "history": [{"month": m, "tco2e": float(v)} for m, v in history.items()],
        "backtest": [t.__dict__ for t in tests],
        "forecast": [
            {"month": m, "mean": float(a), "lower": float(lo), "upper": float(hi)}
            for m, a, lo, hi in zip(future, fc.mean, fc.lower, fc.upper, strict=True)
        ],
        "year_total": None
        if outlook is None
        else {"year": year, "actual": outlook.actual, "forecast": outlook.forecast,
              "mean": outlook.mean, "sd": outlook.sd, "months_actual": outlook.months_actual},
    }  # fmt: skip


# --- allowance position -----------------------------------------------------------------


def position_report(
    account: Any,
    year: int,
    history: dict[str, float] | None,
    *,
    price: float | None = None,
    given: tuple[float, float] | None = None,
    working_days: WorkingDays | None = None,
) -> dict[str, Any]:
    """The compliance position of an account (:func:`tansuan.market.accounts.load`): the
    verified emissions once recorded, else the site's accounting results and their forecast
    when ``history`` is given (and long enough), else the account's ``emissions``;
    ``given`` (mean, sd) [t] overrides them all."""
    from tansuan.market.position import position

    doc = account.file
    if doc.year != year:
        raise InputError(f"账户年份不符 / the account is for {doc.year}, not {year}", field="year")
    outlook = None
    if history and doc.verified is None and given is None:
        try:
            outlook = year_outlook(list(history), np.array(list(history.values())), year,
                                   working_days=working_days)  # fmt: skip
        except InputError:
            outlook = None
    if given is not None:
        (mean, sd), basis = given, "given"
    elif doc.verified is not None:
        mean, sd, basis = doc.verified, 0.0, "verified"
    elif outlook is not None:
        mean, sd, basis = outlook.mean, outlook.sd, "forecast"
    elif doc.emissions is not None:
        mean, sd, basis = doc.emissions.mean, doc.emissions.sd, "file"
    else:
        raise InputError(
            "没有排放数据 / no emissions: the site has no forecastable results and the account "
            "no verified emissions nor `emissions`",
            field="emissions",
        )
    result = position(mean, sd, account.holdings, account.rules,
                      price=doc.price if price is None else price, gas=doc.gas)  # fmt: skip
    h = account.holdings
    return {
        "entity": doc.entity,
        "year": doc.year,
        "emissions_basis": basis,
        "holdings": h.record(),
        "rules": account.rules.__dict__,
        "trade_cash": account.cash,
        "position": result.__dict__,
        "outlook": None if outlook is None else outlook.__dict__ | {"mean": outlook.mean},
    }


# --- alerts -----------------------------------------------------------------------------


def energy_history_tce(
    store: Any, model: Any, site: str, first_year: int, year: int
) -> dict[str, float]:
    """Monthly comprehensive energy [tce] (GB/T 2589 calorific equivalent) of a site from the
    activity data of its accounting results, as the energy report computes it."""
    from tansuan.domain.catalog import shipped_catalog
    from tansuan.errors import TansuanError
    from tansuan.reports.energy import _uses
    from tansuan.reports.gather import gather

    catalog = shipped_catalog()
    out: dict[str, float] = {}
    for y in range(first_year, year + 1):
        try:
            inputs = gather(store, model, site, y)
        except TansuanError:
            continue
        for use in _uses(inputs, catalog):
            if use.tce is not None:
                out[use.month] = out.get(use.month, 0.0) + use.tce
    return dict(sorted(out.items()))


def _year_projection(
    history: dict[str, float], year: int, working_days: WorkingDays | None = None
) -> tuple[float | None, float]:
    """Projected total of ``year`` and its sd: the forecast outlook when the history is
    consecutive and long enough, else the run rate of the months of the year so far."""
    in_year = {m: v for m, v in history.items() if m.startswith(f"{year}-")}
    if not in_year:
        return None, 0.0
    try:
        outlook = year_outlook(list(history), np.array(list(history.values())), year,
                               working_days=working_days)  # fmt: skip
        return outlook.mean, outlook.sd
    except InputError:
        return sum(in_year.values()) * 12.0 / len(in_year), 0.0


def site_alerts(store: Any, model: Any, site: str, year: int, settings: Any) -> dict[str, Any]:
    """The facts of a site for ``year`` and the alerts they raise (see
    :mod:`tansuan.analytics.alerts`); the position is included when the site has an
    allowance account for the year."""
    from tansuan.analytics import alerts
    from tansuan.market import accounts

    site_model = model.site(site)
    thresholds = [alerts.Threshold.parse(t) for t in settings.alert_thresholds]
    days = ShiftCalendar.from_text(settings.shift_calendar).working_days
    last = min(f"{year}-12", last_complete_month(ZoneInfo(site_model.timezone)))
    with store.read() as conn:
        try:
            emissions = emission_history(conn, site, f"{year - 4}-01", last)
        except (NotFound, InputError):
            emissions = {}
    energy = {m: v for m, v in energy_history_tce(store, model, site, year - 4, year).items()
              if m <= last}  # fmt: skip
    year_tco2e, _ = _year_projection(emissions, year, days)
    year_tce, tce_sd = _year_projection(energy, year, days)
    facts: dict[str, float | None] = {
        "month_tco2e": emissions[max(emissions)] if emissions else None,
        "year_tco2e": year_tco2e,
        "year_tce": year_tce,
        "year_tce_sd": tce_sd,
        "shortfall_t": None,
        "shortfall_probability": None,
    }
    position = None
    with store.read() as conn:
        try:
            stored = accounts.load(conn, model.organisation.id, site, year)
        except NotFound:
            stored = None
    if stored is not None:
        position = position_report(stored.account, year, emissions, working_days=days)["position"]
        facts["shortfall_t"] = position["shortfall"]
        facts["shortfall_probability"] = position["shortfall_probability"]
    found = alerts.evaluate(site, facts, budget_tce=site_model.energy_budget_tce,
                            position=position, thresholds=thresholds,
                            margin_pct=settings.alert_margin_pct)  # fmt: skip
    return {
        "site": site,
        "year": year,
        "facts": facts,
        "budget_tce": site_model.energy_budget_tce,
        "alerts": found,
    }
