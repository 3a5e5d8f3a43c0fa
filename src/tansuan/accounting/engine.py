"""The accounting run: every emission source of a site, month by month, from the store.

For each source and each local month of the period the engine

1. gathers the activity data — meter consumption from the daily rollups, rates and CEMS
   concentrations hour by hour from the hourly rollups, invoices and stock changes from
   the manual series — with their coverage;
2. fills gaps by the rule the source is configured with (:mod:`.gaps`);
3. takes parameters from measured series for that month where they exist, else the
   catalog default *for that month only*, and says so in the result's notes;
4. runs the domain method through the same method dispatch as ``tansuan calc``
   (:func:`tansuan.accounting.dispatch.compute`), with the amounts and parameters as
   typed values (nothing is written out as text and parsed again), so a number computed
   from the store and one computed from a file follow one code path and carry the same
   trace;
5. saves the month's result set as a new version only if its inputs changed
   (:mod:`.results`).

Every source is computed per month and the months summed — the national guideline's
rule for coal in power generation ("monthly-first") applied to every source, which gives
the same sum for the others and lets a late reading recalculate one month only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select

from tansuan import clock
from tansuan.accounting import chain, data, gaps, inputs, problems, results
from tansuan.accounting.activity_file import read_inputs
from tansuan.accounting.crosscheck import CrossCheck, cross_check
from tansuan.accounting.dispatch import SourceOutcome, compute
from tansuan.accounting.method_inputs import Context, ElectricityInputs, Hourly, Measure
from tansuan.accounting.periods import (
    PROVISIONAL_REASON,
    Period,
    elapsed_months,
    is_provisional,
    parse_period,
    refuse_future,
)
from tansuan.accounting.quality import grade
from tansuan.accounting.rollup import Line, tonnes_to_grams
from tansuan.domain.catalog import FactorCatalog, shipped_catalog
from tansuan.domain.gases import GwpSet, gwp_set
from tansuan.domain.result import EmissionResult
from tansuan.domain.scope import Scope
from tansuan.errors import ConfigError, MissingParameter, NotFound, TansuanError
from tansuan.site.model import EmissionSource, Site, SiteModel
from tansuan.store import declarations, readings
from tansuan.store import schema as store_schema
from tansuan.store.database import Store
from tansuan.store.timeutil import HOUR_US, local_days

Progress = Callable[[int, int], None]
#: Where a source-month's inputs sit, in errors and traces: as the first source of an
#: activity-data file (``sources[0].amount``), the form every stored trace has.
SOURCE_PATH = "sources[0]"


@dataclass
class RunReport:
    """What an accounting run computed and what it saved."""

    site: str
    period: Period
    computed: list[results.ResultSet] = field(default_factory=list)
    saved: list[results.SavedVersion] = field(default_factory=list)
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # source, month, error
    #: True when the period is not complete yet (it ends after today in the site's zone):
    #: its results can still change, and every report of it says so.
    provisional: bool = False
    provisional_reason: str | None = None

    def problems(self) -> list[results.ResultSet]:
        """The source-months that are failed or missing (each with its problem and fix)."""
        return [r for r in self.computed if r.state in problems.PROBLEM_STATES]

    def outcomes(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for saved in self.saved:
            counts[saved.outcome] = counts.get(saved.outcome, 0) + 1
        return counts


class Accountant:
    """Runs a site's emission sources over the store (one orchestrator, STYLE habit 2)."""

    def __init__(
        self,
        store: Store,
        model: SiteModel,
        *,
        catalog: FactorCatalog | None = None,
        gwp: str | None = None,
        hooks: Sequence[results.VersionHook] = (),
    ) -> None:
        self.store = store
        self.model = model
        self.catalog = catalog or shipped_catalog()
        #: The GWP set asked for; ``None``: each site's ``gwp:``, else AR5.
        self.gwp_choice = gwp
        self.gwp = gwp_set(gwp or "AR5")
        self.hooks = tuple(hooks)

    # -- public ---------------------------------------------------------------------------
    def run(
        self,
        site_key: str,
        period: Period,
        *,
        sources: Iterable[str] | None = None,
        progress: Progress | None = None,
    ) -> RunReport:
        """Compute and save every (chosen) source of ``site_key`` for every month of ``period``
        that has begun.

        A period that starts after today (in the site's time zone) is refused before anything
        is read or written; one that ends after today is computed up to today's month only and
        the report is marked provisional.
        """
        site = self.model.site(site_key)
        today = clock.today(ZoneInfo(site.timezone))
        refuse_future(period, today)
        chosen = self._sources(site, sources)
        report = RunReport(site_key, period)
        if is_provisional(period, today):
            report.provisional, report.provisional_reason = True, PROVISIONAL_REASON
        with self.store.read() as conn:
            report.computed, report.errors = self._compute(
                conn, site, chosen, period, progress, months=elapsed_months(period, today)
            )
        with self.store.write() as conn:
            report.saved = results.save_many(conn, report.computed, hooks=self.hooks)
            for result in report.computed:
                results.clear_stale(conn, site_key, result.source_id, result.period)
        return report

    def recalculate_stale(self, site_key: str) -> RunReport:
        """Recalculate only the source-months marked stale (late or corrected data)."""
        site = self.model.site(site_key)
        with self.store.read() as conn:
            marks = results.stale(conn, site_key)
        if not marks:
            today = clock.today()
            return RunReport(site_key, Period(today, today + dt.timedelta(days=1), "custom", "-"))
        months = sorted({month for _, month, _ in marks})
        first = parse_period(months[0])
        last = parse_period(months[-1])
        report = RunReport(
            site_key, Period(first.start, last.end, "custom", f"{months[0]}..{months[-1]}")
        )
        by_month: dict[str, set[str]] = {}
        for source, month, _ in marks:
            by_month.setdefault(month, set()).add(source)
        with self.store.read() as conn:
            for month, source_ids in sorted(by_month.items()):
                chosen = [s for s in site.sources if s.id in source_ids]
                computed, errors = self._compute(conn, site, chosen, parse_period(month), None)
                report.computed += computed
                report.errors += errors
        with self.store.write() as conn:
            report.saved = results.save_many(conn, report.computed, hooks=self.hooks)
            for source, month, _ in marks:
                results.clear_stale(conn, site_key, source, month)
        return report

    def mark_stale_for_points(
        self, conn: Any, site_key: str, touched: Mapping[str, Iterable[int]], reason: str
    ) -> int:
        """Mark the months of sources fed by ``touched`` points (point → ts_us) stale.

        Only months that already have a result are marked: a month never computed has
        nothing to go stale.
        """
        site = self.model.site(site_key)
        users: dict[str, list[str]] = {}
        for source in site.sources:
            for ref in (*source.activity, *source.parameters.values()):
                if ref.point is not None:
                    users.setdefault(ref.point, []).append(source.id)
        counters = {
            p.id
            for _, device in site.iter_devices()
            for p in device.points
            if p.kind != "instantaneous"
        }
        hj75 = {s.id for s in site.sources if inputs.uses_hj75(s, s.method)}
        marks: set[tuple[str, str]] = set()
        ids = data.points(conn, site_key) if counters.intersection(touched) else {}
        sid = data.site_id(conn, site_key) if ids else None
        for point, stamps in touched.items():
            stamps = list(stamps)
            if point in counters and stamps:
                # A register value's delta covers (previous reading, reading] and the next
                # reading's delta starts at it: a reading at 00:00 on the 1st closes the
                # month before (ts − 1 µs), and a meter read daily or monthly spreads its
                # delta over the months since the reading before. Mark every month from
                # the valid reading before the earliest stamp to the one after the latest.
                stamps += [ts - 1 for ts in stamps]
                row = ids.get(point)
                if row is not None and sid is not None:
                    before = readings.prev_valid(conn, sid, row.id, min(stamps))
                    after = readings.next_valid_ts(conn, sid, row.id, max(stamps))
                    first = before[0] if before else min(stamps)
                    last = (after - 1) if after else max(stamps)
                    stamps += _month_starts(first, last, site.timezone)
            months = _months_of(stamps, site.timezone)
            around = (
                _months_of(_hj75_reach(stamps), site.timezone)
                if hj75.intersection(users.get(point, ()))
                else set()
            )
            for source_id in users.get(point, ()):
                for month in months | (around if source_id in hj75 else set()):
                    marks.add((source_id, month))
        if not marks:
            return 0
        computed = results.computed_pairs(conn, site_key, sorted({m for _, m in marks}))
        return results.mark_stale(conn, site_key, marks & computed, reason)

    def stale_hook(self, conn: Any, batch_id: int, rows: Any) -> None:
        """Ingest batch hook: mark the source-months a committed batch touched as stale."""
        touched: dict[str, dict[str, list[int]]] = {}
        for site, point, ts in zip(rows.site, rows.point, rows.ts_us.tolist(), strict=True):
            touched.setdefault(site, {}).setdefault(point, []).append(ts)
        known = {s.id for s in self.model.sites()}
        for site, points in touched.items():
            if site in known:
                self.mark_stale_for_points(conn, site, points, f"ingest batch {batch_id}")

    def cross_checks(
        self, site_key: str, period: Period, threshold: float = 0.05
    ) -> dict[str, list[CrossCheck]]:
        """For every source with ``cross_check: <cems source>``: CO2 per month compared."""
        site = self.model.site(site_key)
        pairs = [(s.id, s.cross_check) for s in site.sources if s.cross_check]
        if not pairs:
            return {}
        labels = [m.label for m in period.months()]
        with self.store.read() as conn:
            rows = results.current_lines(conn, site_key, labels, include_checks=True)
            unresolved = results.problem_sets(conn, site_key, labels, include_checks=True)
        co2: dict[str, dict[str, int]] = {}
        for row in rows:
            if row["gas"] == "CO2":
                by_month = co2.setdefault(row["source_id"], {})
                by_month[row["period"]] = by_month.get(row["period"], 0) + int(row["mass_g"])
        bad: dict[str, set[str]] = {}
        for row in unresolved:
            if row["state"] in problems.PROBLEM_STATES:
                bad.setdefault(row["source_id"], set()).add(row["period"])
        return {
            f"{calc}~{cems}": cross_check(
                co2.get(calc, {}),
                co2.get(cems, {}),
                threshold,
                bad.get(calc, set()) | bad.get(cems, set()),
            )
            for calc, cems in pairs
            if cems is not None
        }

    def manual_hook(self, conn: Any, batch_id: int, entries: Sequence[Any]) -> None:
        """Manual-data import hook: mark the months new or corrected entries cover stale.

        A new lab analysis, invoice or stock change only changes the results of the
        sources that read that series, in the months its period covers.
        """
        if not entries:
            return
        ids = sorted({int(e.series_id) for e in entries})
        rows = conn.execute(
            select(
                store_schema.series.c.id, store_schema.series.c.site_key, store_schema.series.c.key
            ).where(store_schema.series.c.id.in_(ids))
        ).all()
        names = {r.id: (r.site_key, r.key) for r in rows}
        by_site: dict[str, set[tuple[str, str]]] = {}
        for entry in entries:
            site_key, series_key = names[int(entry.series_id)]
            try:
                site = self.model.site(site_key)
            except NotFound:
                continue
            users = [
                s.id
                for s in site.sources
                if any(r.series == series_key for r in (*s.activity, *s.parameters.values()))
            ]
            months = _months_between(int(entry.period_start), int(entry.period_end))
            by_site.setdefault(site_key, set()).update((u, m) for u in users for m in months)
        for site_key, marks in by_site.items():
            computed = results.computed_pairs(conn, site_key, sorted({m for _, m in marks}))
            results.mark_stale(conn, site_key, marks & computed, f"manual data batch {batch_id}")

    def lines(self, site_key: str, period: Period) -> list[Line]:
        """The current result lines of a site for a period, placed in the hierarchy."""
        site = self.model.site(site_key)
        placement = self._placement(site)
        with self.store.read() as conn:
            rows = results.current_lines(conn, site_key, [m.label for m in period.months()])
        methods = {s.id: s for s in site.sources}
        out: list[Line] = []
        for row in rows:
            source = methods.get(row["source_id"])
            out.append(
                Line(
                    source=row["source_id"],
                    period=row["period"],
                    gas=row["gas"],
                    scope=row["scope"],
                    source_type=row["method"],
                    carrier=_carrier(source) if source else "",
                    path=placement.get(row["source_id"], (*self._site_path(site), "(site)")),
                    mass_g=int(row["mass_g"]),
                    co2e_g=int(row["co2e_g"]),
                )
            )
        return out

    # -- computing ------------------------------------------------------------------------
    def _gwp(self, site: Site) -> GwpSet:
        """The GWP set of a site's results: the one asked for, else the site's ``gwp:``."""
        if self.gwp_choice is None and site.gwp is not None:
            return gwp_set(site.gwp)
        return self.gwp

    def _sources(self, site: Site, chosen: Iterable[str] | None) -> list[EmissionSource]:
        if chosen is None:
            return list(site.sources)
        wanted = list(chosen)
        known = {s.id: s for s in site.sources}
        missing = [s for s in wanted if s not in known]
        if missing:
            raise NotFound(f"no source {', '.join(missing)} in site {site.id!r}")
        return [known[s] for s in wanted]

    def _compute(
        self,
        conn: Any,
        site: Site,
        sources: Sequence[EmissionSource],
        period: Period,
        progress: Progress | None,
        *,
        months: list[Period] | None = None,
    ) -> tuple[list[results.ResultSet], list[tuple[str, str, str]]]:
        """Compute ``sources`` for ``months`` (default: every month of ``period``)."""
        site_db = data.site_id(conn, site.id)
        if site_db is None:
            raise NotFound(f"site {site.id!r} is not loaded in the store: run `tansuan site load`")
        points = data.points(conn, site.id)
        series = {s.id: s for s in site.series}
        months = period.months() if months is None else months
        meter_ids = sorted(
            {
                points[ref.point].id
                for source in sources
                for ref in (*source.activity, *source.parameters.values())
                if ref.point is not None
                and ref.point in points
                and points[ref.point].kind != "instantaneous"
            }
        )
        stats = data.monthly_stats(conn, site_db, meter_ids, period)
        entries: dict[str, dict[str, list[tuple[data.Entry, float]]]] = {}
        context = inputs.Context(conn, site, site_db, points, series, stats, entries, months)
        declared: dict[str, list[declarations.Declaration]] = {}
        for declaration in declarations.listed(conn, site.id):
            declared.setdefault(declaration.source_id, []).append(declaration)
        checks = {s.cross_check for s in site.sources if s.cross_check}
        out: list[results.ResultSet] = []
        errors: list[tuple[str, str, str]] = []
        total = len(sources) * len(months)
        done = 0
        for source in sources:
            previous: list[float] = []
            for month in months:
                try:
                    out.extend(
                        self._source_month(
                            context, source, month, previous, declared.get(source.id, [])
                        )
                    )
                except TansuanError as error:
                    # Never dropped: the month is recorded as failed, with why and the fix.
                    errors.append((source.id, month.label, str(error)))
                    problem = problems.failed(error)
                    out.append(
                        _unresolved(
                            site.id, source, month, problem, {}, counted=source.id not in checks
                        )
                    )
                done += 1
                if progress is not None:
                    progress(done, total)
        return out, errors

    def _source_month(
        self,
        ctx: inputs.Context,
        source: EmissionSource,
        month: Period,
        previous: list[float],
        declared: Sequence[declarations.Declaration] = (),
    ) -> list[results.ResultSet]:
        checks = {s.cross_check for s in ctx.site.sources if s.cross_check}
        counted = source.id not in checks
        days = _days(month)
        operating = [d for d in days if source.active is None or source.active.covers(d)]
        if not operating:
            return [_unresolved(ctx.site.id, source, month, _inactive(source), {}, counted=counted)]
        # Days the source runs and no declared shutdown covers: where data are expected.
        expected_days = [d for d in operating if not any(x.covers(d) for x in declared)]
        notes: list[str] = []
        # Typed values (amounts, measured parameters, hourly arrays) and the site model's
        # fixed values as written (read once by the activity-file reader), by key.
        typed: dict[str, object] = {}
        written: dict[str, Any] = {}
        if source.fuel:
            written["fuel"] = source.fuel
        if source.material:
            key = "material" if source.method != "refrigerant" else "refrigerant"
            written[key] = source.material
        provenance: dict[str, Any] = {}
        if source.method == "cems":
            activity = inputs.cems_inputs(ctx, source, month, typed)
            if activity.value == 0:  # not one usable hour: no data, not a zero
                activity = dataclasses.replace(activity, value=None)
        elif source.method in ("mass_balance",):
            raise ConfigError(
                "mass-balance sources need stream lists; compute them with `tansuan calc`",
                field=f"sources.{source.id}.method",
            )
        else:
            activity = inputs.activity(ctx, source, month, previous)
        share = len(expected_days) / len(days)
        if activity.value is None:
            provenance["activity"] = list(activity.sources)
            if expected_days:  # no data where data are expected, and no declaration
                return [
                    _unresolved(
                        ctx.site.id, source, month, problems.missing(), provenance, counted=counted
                    )
                ]
            # Every operating day is declared shut down: a true, declared zero.
            used = [x for x in declared if any(x.covers(d) for d in operating)]
            provenance["declarations"] = [
                {"id": x.id, "from": x.date_from.isoformat(), "to": x.date_to.isoformat(),
                 "reason": x.reason, "evidence_sha256": x.evidence_sha256}
                for x in used
            ]  # fmt: skip
            notes.append(
                f"{month.label}: 声明停运，本月计为 0 / declared shutdown "
                f"({', '.join(f'#{x.id} {x.reason}' for x in used)}): the month counts as 0"
            )
            activity = dataclasses.replace(activity, coverage=1.0, missing_share=0.0)
            if source.method == "cems":
                for key in list(typed):
                    hourly_in = typed[key]
                    if isinstance(hourly_in, Hourly):
                        typed[key] = Hourly((0.0,), hourly_in.unit)
        elif share < 1:
            # Coverage counts only the days the source runs and no declaration covers.
            activity = dataclasses.replace(
                activity, coverage=min(1.0, activity.coverage / share) if share else 1.0
            )
            provenance["operating_share"] = round(share, 6)
        if source.method != "cems":
            amount = Measure(0.0 if activity.value is None else activity.value, activity.unit)
            if source.method == "direct":
                typed["gases"] = ((source.material or "CO2", amount),)
                written.pop("material", None)
            else:
                typed["amount"] = amount
            if activity.value is not None:
                previous.append(activity.value)
        notes += activity.notes
        provenance["activity"] = list(activity.sources)
        provenance["parameters"], factor_chain = chain.resolve(
            ctx, source, month, typed, written, notes
        )
        gwp = self._gwp(ctx.site)
        run = Context(
            catalog=self.catalog,
            gwp=gwp,
            year=month.start.year,
            on=month.start,
            region=ctx.site.grid_region,
        )
        source_inputs = read_inputs(source.method, written, typed=typed, path=SOURCE_PATH)
        bases = ["location"]
        if source.method == "electricity" and any(
            k in typed or k in written for k in inputs.MARKET_KEYS
        ):
            bases.append("market")
        lines: list[results.ResultLine] = []
        traces: dict[str, Any] = {}
        factors: list[Any] = []
        for basis in bases:
            if isinstance(source_inputs, ElectricityInputs):
                source_inputs = dataclasses.replace(source_inputs, basis=basis)
            try:
                result = compute(run, source_inputs, path=SOURCE_PATH)
            except MissingParameter as error:
                raise chain.explain_missing(error, source, factor_chain, self.catalog) from None
            if not isinstance(result, EmissionResult):
                raise ConfigError("energy sources carry no emissions", field=source.id)
            scope = _scope(source, basis)
            traces[scope] = SourceOutcome(source.id, source.method, result).as_dict()["trace"]
            chain.annotate(traces[scope], factor_chain, self.catalog)
            factors += [
                (scope, p.name, p.factor_id or p.origin.value, p.value, p.unit)
                for p in (*result.trace.inputs, *result.trace.factors)
            ]
            for gas, mass_t in sorted(result.gases_t.items()):
                gwp_value = gwp.gwp(gas).value
                lines.append(
                    results.ResultLine(
                        gas, scope, tonnes_to_grams(mass_t), tonnes_to_grams(mass_t * gwp_value)
                    )
                )
        quality = grade(
            activity.coverage,
            activity.substituted_share,
            1.0 if activity.value is None else activity.missing_share,
        )
        first = traces[_scope(source, bases[0])]
        trace = {**first, "period": month.label, "data": provenance, "scopes": list(traces)}
        if len(traces) > 1:
            trace["by_scope"] = traces
        digest_inputs = {
            "data": provenance,
            "factors": sorted(factors),
            "gwp": gwp.name,
            "month": month.label,
        }
        if not counted:
            notes.append(
                "交叉核验源，不计入合计 / a cross-check of a calculated source: "
                "reported beside it, never added into totals"
            )
        return [
            results.ResultSet(
                site_id=ctx.site.id,
                source_id=source.id,
                period=month.label,
                method=source.method,
                lines=tuple(lines),
                inputs=digest_inputs,
                trace=trace,
                grade=quality.grade,
                coverage=quality.coverage,
                substituted_share=quality.substituted_share,
                notes=tuple(notes),
                counted=counted,
            )
        ]

    # -- hierarchy ------------------------------------------------------------------------
    def _site_path(self, site: Site) -> tuple[str, ...]:
        org = self.model.organisation
        for company in org.companies:
            if any(s.id == site.id for s in company.sites):
                return (org.id, company.id, site.id)
        return (org.id, site.id)

    def placement(self, site_key: str) -> dict[str, tuple[str, ...]]:
        """Each source's place in the hierarchy: (group, company, site, areas…, device)."""
        return self._placement(self.model.site(site_key))

    def _placement(self, site: Site) -> dict[str, tuple[str, ...]]:
        base = self._site_path(site)
        devices = {device.id: (*base, *areas, device.id) for areas, device in site.iter_devices()}
        return {s.id: devices.get(s.device or "", (*base, "(site)")) for s in site.sources}


def _unresolved(
    site_id: str,
    source: EmissionSource,
    month: Period,
    problem: problems.Problem,
    provenance: Mapping[str, Any],
    *,
    counted: bool,
) -> results.ResultSet:
    """A source-month that has no emissions figure: failed, missing or inactive.

    It has no lines (its CO2e is unknown — never 0), says why and what to do, and is saved
    and versioned like any result, so it is listed wherever its month is shown.
    """
    inputs_digest = {
        "data": dict(provenance),
        "month": month.label,
        "state": problem.state,
        "problem": problem.problem,
    }
    trace = {
        "period": month.label,
        "method": source.method,
        "state": problem.state,
        "problem": problem.problem,
        "fix": problem.fix,
        "data": dict(provenance),
    }
    coverage = 1.0 if problem.state == "inactive" else 0.0
    return results.ResultSet(
        site_id=site_id,
        source_id=source.id,
        period=month.label,
        method=source.method,
        lines=(),
        inputs=inputs_digest,
        trace=trace,
        grade="-" if problem.state == "inactive" else "D",
        coverage=coverage,
        substituted_share=0.0,
        notes=(f"{month.label}: {problem.problem}",),
        counted=counted,
        state=problem.state,
        problem=problem.problem,
        fix=problem.fix or None,
    )


def _inactive(source: EmissionSource) -> problems.Problem:
    active = source.active
    assert active is not None
    span = f"{active.from_ or '…'}..{active.to or '…'}"
    return problems.Problem(
        "inactive",
        "inactive",
        f"不在运行期内（{span}） / outside the source's active period ({span})",
        "",
    )


def _days(month: Period) -> list[dt.date]:
    """The local days of ``month`` (``[start, end)``)."""
    count = (month.end - month.start).days
    return [month.start + dt.timedelta(days=i) for i in range(count)]


def _scope(source: EmissionSource, basis: str) -> str:
    """The stored scope value (plain text: traces are JSON with scope keys)."""
    return Scope.of(source.scope, basis).value


def _carrier(source: EmissionSource) -> str:
    if source.fuel:
        return source.fuel
    if source.material:
        return source.material
    return {"electricity": "electricity", "heat": "heat", "cems": "flue_gas"}.get(
        source.method, source.method
    )


def _months_between(start: int, end: int) -> list[str]:
    """Month labels from local day ``start`` to ``end`` (``YYYYMMDD``, inclusive)."""
    out = []
    year, month = start // 10000, start // 100 % 100
    while year * 100 + month <= end // 100:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _hj75_reach(stamps: Sequence[int]) -> list[int]:
    """Hours [µs] whose months an HJ 75 fill may read a reading at ``stamps`` from.

    A valid hour is the neighbour after a gap of up to ``cems.short_gap_hours`` (24 h)
    that began up to 25 h earlier, possibly in the previous month; and it lies in the
    720-valid-hour look-back of the gaps after it (HJ 75-2017 §11–12 [M]), at least the
    next 720 h: stamps every half look-back reach every month of that span. A look-back
    stretched further by missing data is not followed (``tansuan account`` recomputes it).
    """
    back = (gaps.SHORT_GAP_HOURS + 1) * HOUR_US
    ahead = gaps.LOOKBACK_VALID_HOURS * HOUR_US
    return [ts + shift for ts in stamps for shift in (-back, ahead // 2, ahead)]


def _month_starts(first_us: int, last_us: int, timezone: str) -> list[int]:
    """An instant in every local month from ``first_us`` to ``last_us`` (both included):
    the bounds and the start of each month in between."""
    out = [first_us, last_us]
    zone = ZoneInfo(timezone)
    lo = dt.datetime.fromtimestamp(first_us / 1e6, zone)
    hi = dt.datetime.fromtimestamp(last_us / 1e6, zone)
    year, month = lo.year, lo.month
    while (year, month) < (hi.year, hi.month):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        out.append(int(dt.datetime(year, month, 1, tzinfo=zone).timestamp() * 1_000_000))
    return out


def _months_of(stamps: Iterable[int], timezone: str) -> set[str]:
    array = np.fromiter(stamps, dtype=np.int64)
    if array.size == 0:
        return set()
    hours = np.unique(array // HOUR_US) * HOUR_US
    days = np.unique(local_days(hours, timezone) // 100)
    return {f"{int(m) // 100:04d}-{int(m) % 100:02d}" for m in days}
