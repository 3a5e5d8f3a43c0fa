"""Backfill days of a demo site's history straight into the store.

The site model is loaded into the store, then every local day is simulated in order
and handed to the platform's :class:`~tansuan.ingest.ingestor.Ingestor` through its
columnar path (so ledger leaves, rollups and stale marks are made exactly as for live
data); the month's manual series (invoices, lab analyses, production) go through
:func:`tansuan.ingest.manual.import_table`. The twin's state at the start of the last
day (registers, seed, intervention) is written to ``<data_dir>/twin/<site>.json`` so
:mod:`.live` continues the same meters without a jump.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import numpy as np
import orjson

from tansuan import clock
from tansuan.domain import months, units
from tansuan.ingest import manual
from tansuan.ingest.ingestor import Ingestor
from tansuan.ingest.manual import EntryHook
from tansuan.settings import Settings
from tansuan.site.model import Series, SeriesKind, Site, SiteModel
from tansuan.store import Store
from tansuan.twin import faults as faults_mod
from tansuan.twin.calendar import day_grid, local_days
from tansuan.twin.faults import Fault
from tansuan.twin.frame import Frame
from tansuan.twin.plant import DayTotals, Plant, TwinSpec


class Target(Protocol):
    """What a backfill writes through: the platform's store, its one ingestor and the hooks
    of manual entries (a :class:`tansuan.platform.Platform` is one). The twin takes it
    from its caller instead of importing the platform that wires everything."""

    settings: Settings

    @property
    def store(self) -> Store: ...

    @property
    def ingestor(self) -> Ingestor: ...

    @property
    def manual_hooks(self) -> Sequence[EntryHook]: ...

    @property
    def model_hooks(self) -> Sequence[Callable[[Any, int], object]]: ...


#: Rows handed to the ingestor per batch.
BATCH_ROWS = 250_000
Progress = Callable[[int, int], None]
#: Share of generation supplied to the grid (the rest is the unit's own use), for the
#: demo power plant's "electricity supplied" series.
NET_SHARE = 0.94


@dataclass
class BackfillReport:
    site: str
    days: int
    rows_generated: int = 0
    rows_stored: int = 0
    rows_rejected: int = 0
    manual_rows: int = 0
    generate_s: float = 0.0
    ingest_s: float = 0.0
    last_ts_us: int = 0
    errors: list[str] = field(default_factory=list)


def state_path(data_dir: Path, site_id: str) -> Path:
    return data_dir / "twin" / f"{site_id}.json"


def save_state(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(state, option=orjson.OPT_INDENT_2))


def load_state(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    data: dict[str, Any] = orjson.loads(path.read_bytes())
    return data


def backfill(
    platform: Target,
    model: SiteModel,
    spec: TwinSpec,
    *,
    days: int,
    end: dt.date | None = None,
    history_step_s: int | None = None,
    faults: Sequence[Fault] = (),
    progress: Progress | None = None,
    now_us: int | None = None,
    older_step_s: int | None = None,
    recent_days: int = 365,
) -> BackfillReport:
    """Simulate ``days`` local days up to and including ``end`` (default: today, up to now).

    Days more than ``recent_days`` before ``end`` are thinned to ``older_step_s`` when it
    is given (an older history kept coarser, as a plant historian keeps it; CEMS points
    and points a source reads keep their interval).

    The site model is loaded (applying its difference) first; readings after ``now_us``
    are not sent (the ingestor rejects the future).
    """
    site = model.sites()[0]
    platform.store.load_model(model, source=f"twin:{site.id}", hooks=platform.model_hooks)
    platform.ingestor.refresh()
    zone = ZoneInfo(site.timezone)
    now_us = now_us if now_us is not None else int(clock.now().timestamp() * 1_000_000)
    end = end or clock.today(zone)
    first = end - dt.timedelta(days=days - 1)
    plant = Plant(site, spec)
    plant.resets = [f for f in faults if f.kind == "counter_reset"]
    others = [f for f in faults if f.kind != "counter_reset"]
    report = BackfillReport(site.id, days)
    pending: list[Frame] = []
    pending_rows = 0
    monthly: dict[str, list[DayTotals]] = defaultdict(list)
    day_start_registers: dict[str, float] = dict(plant.registers)
    last_day = first
    for index, day in enumerate(local_days(first, end + dt.timedelta(days=1))):
        day_start_registers = dict(plant.registers)
        last_day = day
        t0 = time.perf_counter()
        older = older_step_s is not None and (end - day).days >= recent_days
        frame, totals = plant.day(day, history_step_s=older_step_s if older else history_step_s)
        frame = faults_mod.apply(frame, others).take_before(now_us)
        report.generate_s += time.perf_counter() - t0
        report.rows_generated += frame.n
        if frame.n:
            report.last_ts_us = max(report.last_ts_us, int(frame.ts_us.max()))
        monthly[f"{day.year:04d}-{day.month:02d}"].append(totals)
        pending.append(frame)
        pending_rows += frame.n
        if pending_rows >= BATCH_ROWS:
            _ingest(platform, site.id, Frame.concat(pending), report)
            pending, pending_rows = [], 0
        if progress is not None:
            progress(index + 1, days)
    if pending:
        _ingest(platform, site.id, Frame.concat(pending), report)
    report.manual_rows = _manual(platform, site, plant, spec, first, end, monthly)
    save_state(
        state_path(platform.settings.data_dir, site.id),
        {
            "site": site.id,
            "seed": spec.seed,
            "intervention": spec.intervention.isoformat() if spec.intervention else None,
            "leak": None
            if spec.leak is None
            else [spec.leak[0], spec.leak[1].isoformat(), spec.leak[2]],  # fmt: skip
            "day": last_day.isoformat(),
            "registers": day_start_registers,
            "history_step_s": history_step_s,
            "base_step_s": plant.base_step(None, history_step_s),
            "last_ts_us": report.last_ts_us,
        },
    )
    return report


def _ingest(platform: Target, site_id: str, frame: Frame, report: BackfillReport) -> None:
    t0 = time.perf_counter()
    result = platform.ingestor.ingest_columns(
        site_id,
        frame.point.tolist(),
        frame.ts_us,
        frame.value,
        quality=frame.quality.tolist(),
        source="twin",
    )
    report.ingest_s += time.perf_counter() - t0
    report.rows_stored += result.new
    report.rows_rejected += result.rejected
    for error in result.errors[:5]:
        report.errors.append(f"{error.point}: {error.code} {error.detail}")


def _manual(
    platform: Target,
    site: Site,
    plant: Plant,
    spec: TwinSpec,
    first: dt.date,
    end: dt.date,
    monthly: dict[str, list[DayTotals]],
) -> int:
    """Monthly invoices, lab analyses and production, imported as manual data."""
    rng = np.random.default_rng([spec.seed, 11])
    by_kind: dict[str, list[list[Any]]] = defaultdict(list)
    for month, totals in sorted(monthly.items()):
        i = months.index(month)
        start = max(first, months.first_day(i))
        stop = min(end, months.first_day(i + 1) - dt.timedelta(days=1))
        for series in site.series:
            value = _series_value(series, plant, spec, totals, rng)
            if value is None:
                continue
            kind = _table_kind(series.kind)
            ref = f"TWIN-{series.id}-{month}"
            row: list[Any] = [site.id, series.id, start.isoformat(), stop.isoformat(),
                              f"{value:.6g}", series.unit, ref]  # fmt: skip
            if f"{value:.6g}" in ("0", "-0"):  # a zero needs its reason (zero_without_reason)
                row.append("twin: nothing simulated in the month / 孪生模型本月模拟值为 0")
            by_kind[kind].append(row)
    by_kind["production"] += _plan_rows(site, spec, end)
    count = 0
    for kind, rows in by_kind.items():
        if not rows:  # a table with a header only is refused (issue 17): nothing to import
            continue
        header = [*manual.COMMON, "note"]
        result = manual.import_table(
            platform.store, [header, *rows], kind=kind, source="twin",
            hooks=platform.manual_hooks,
        )  # fmt: skip
        count += result.new + result.versioned
    return count


#: Months of production plan the twin writes, from the month of the history's end on.
PLAN_MONTHS = 15


def _plan_rows(site: Site, spec: TwinSpec, end: dt.date) -> list[list[Any]]:
    """The plant's production plan (series of kind ``production_plan``) for the month of
    ``end`` and the next months: the calendar's shift hours × the output per shift hour ×
    the production factor — what the plant schedules, without the month-to-month draw of
    the actual level."""
    plans = [s for s in site.series if s.kind == SeriesKind.production_plan]
    if not plans or not spec.production_t_per_shift_h:
        return []
    rows: list[list[Any]] = []
    for k in range(PLAN_MONTHS):
        i = months.index_of(end) + k
        start = months.first_day(i)
        stop = months.first_day(i + 1) - dt.timedelta(days=1)
        hours = 0.0
        for day in local_days(start, stop + dt.timedelta(days=1)):
            grid = day_grid(day, 900, site.timezone)
            hours += float(spec.calendar.activity(grid).sum()) * grid.step_s / 3600.0
        planned = hours * spec.production_t_per_shift_h * spec.production_factor
        for series in plans:
            value = planned * units.factor("t", series.unit)
            ref = f"TWIN-PLAN-{series.id}-{start:%Y-%m}"
            rows.append([site.id, series.id, start.isoformat(), stop.isoformat(),
                         f"{value:.6g}", series.unit, ref])  # fmt: skip
    return rows


def _table_kind(kind: SeriesKind) -> str:
    for name, (kinds, _, _) in manual.KINDS.items():
        if kind.value in kinds:
            return name
    return "energy"


def _series_value(
    series: Series,
    plant: Plant,
    spec: TwinSpec,
    totals: list[DayTotals],
    rng: np.random.Generator,
) -> float | None:
    """A month's value of a manual series, from the simulated truth with paperwork noise."""
    fuels = {b: boiler.fuel for b, boiler in plant.boilers.items()}
    if series.kind == SeriesKind.fuel_consumption and series.fuel:
        burnt = sum(t.fuel_t.get(b, 0.0) for t in totals for b, f in fuels.items()
                    if f.key == series.fuel)  # fmt: skip
        return burnt * (1 + rng.normal(0, 0.002))
    if series.kind == SeriesKind.lab_ncv and series.fuel:
        fuel = next((f for f in fuels.values() if f.key == series.fuel), None)
        return None if fuel is None else fuel.ncv_gj_per_t * (1 + rng.normal(0, 0.004))
    if series.kind == SeriesKind.lab_carbon_content and series.fuel:
        fuel = next((f for f in fuels.values() if f.key == series.fuel), None)
        return None if fuel is None else fuel.carbon_content_tc_per_t * (1 + rng.normal(0, 0.004))
    if series.kind == SeriesKind.production:
        if units.same_dimension(series.unit, "kWh"):
            kwh = sum(sum(t.generated_kwh.values()) for t in totals)
            return kwh * units.factor("kWh", series.unit) * NET_SHARE
        clinker = sum(t.clinker_t for t in totals)
        if clinker:
            return clinker
        if series.id == spec.production_series:
            return sum(t.production_t for t in totals)
    return None
