"""Read what a report renders: the site model, the current accounting results and traces.

Nothing here computes an emission: lines and traces are read as the accounting engine
saved them (``tansuan.accounting.results``); totals are exact integer-gram sums.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa

from tansuan.accounting import data, filing, results
from tansuan.accounting.engine import Accountant
from tansuan.accounting.periods import Period, month_period, year_period
from tansuan.accounting.problems import PROBLEM_STATES
from tansuan.accounting.rollup import Line
from tansuan.domain.months import first_day, index
from tansuan.domain.scope import in_total
from tansuan.errors import InputError, NotFound
from tansuan.site.model import Company, EmissionSource, Site, SiteModel
from tansuan.store import Store, schema
from tansuan.store.evidence import Evidence, list_evidence


@dataclass(frozen=True)
class ResultSetInfo:
    """One current source-month result set with its trace."""

    set_id: int
    source_id: str
    period: str
    version: int
    method: str
    grade: str
    coverage: float
    substituted_share: float
    trace: dict[str, Any]


@dataclass
class Inputs:
    """Everything a builder may read, for one site and one period."""

    model: SiteModel
    site: Site
    company: Company
    year: int
    month: int | None
    period: Period
    months: list[str]
    lines: list[Line]
    sets: dict[tuple[str, str], ResultSetInfo]  #: (source, month) → set
    line_sets: list[tuple[Line, int]] = field(default_factory=list)  #: line → set id
    production: dict[str, dict[str, float]] = field(default_factory=dict)  #: series → month → v
    production_units: dict[str, str] = field(default_factory=dict)
    production_docs: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    #: failed or missing source-months (``results.problem_sets`` rows): never left out
    problems: list[dict[str, Any]] = field(default_factory=list)
    #: recalculations of filed months awaiting an approver's decision (data-quality section)
    proposals: list[filing.Proposal] = field(default_factory=list)
    #: evidence files attached to the period's source-months and manual entries
    attachments: list[tuple[str, Evidence]] = field(default_factory=list)  #: (month, file)

    @property
    def label(self) -> str:
        return f"{self.year}" if self.month is None else f"{self.year}-{self.month:02d}"

    def source(self, source_id: str) -> EmissionSource | None:
        return next((s for s in self.site.sources if s.id == source_id), None)

    def totals_g(self) -> int:
        """The total [gCO2e]: the lines :func:`~tansuan.domain.scope.in_total` counts."""
        return sum(ln.co2e_g for ln in self.lines if in_total(ln.scope))


def period_of(year: int, month: int | None) -> Period:
    if month is not None and not 1 <= month <= 12:
        raise InputError(f"月份无效 / month must be 1–12, got {month}", field="month")
    if not 1990 <= year <= 2200:
        raise InputError(f"年份无效 / implausible year {year}", field="year")
    return year_period(year) if month is None else month_period(year, month)


def gather(
    store: Store,
    model: SiteModel,
    site_id: str,
    year: int,
    month: int | None = None,
    *,
    accountant: Accountant | None = None,
    through_month: bool = False,
) -> Inputs:
    """Read the current results of ``site_id`` for the year (or one month).

    ``through_month``: read January … ``month`` (the energy report's year-to-date).

    Raises
    ------
    NotFound
        the site is not in the model, or no accounting result exists for the period
        (run ``tansuan account`` first: reports render results, they never compute them).
    """
    site = model.site(site_id)
    company = next(c for c in model.organisation.companies if any(s.id == site_id for s in c.sites))
    period = period_of(year, month)
    if through_month and month is not None:
        months = [f"{year}-{m:02d}" for m in range(1, month + 1)]
        read_period = year_period(year)
    else:
        months = [m.label for m in period.months()]
        read_period = period
    accountant = accountant or Accountant(store, model)
    placed = [ln for ln in accountant.lines(site_id, read_period) if ln.period in months]
    with store.read() as conn:
        rows = results.current_lines(conn, site_id, months)
        set_ids = sorted({int(r["id"]) for r in rows})
        traces = _traces(conn, set_ids)
        production, units, docs = _production(conn, site, read_period, months)
        problems = [
            p for p in results.problem_sets(conn, site_id, months) if p["state"] in PROBLEM_STATES
        ]
        proposals = filing.pending(conn, site_id, months)
        attachments = month_attachments(conn, site_id, months)
    if not rows and not problems:
        raise NotFound(
            f"站点 {site_id} 在 {period.label} 没有核算结果，请先运行 tansuan account / no "
            f"accounting results for site {site_id!r} in {period.label}: run `tansuan account "
            f"--site {site_id} --period {period.label}` first"
        )
    sets: dict[tuple[str, str], ResultSetInfo] = {}
    set_of: dict[tuple[str, str, str, str], int] = {}
    for r in rows:
        key = (str(r["source_id"]), str(r["period"]))
        set_of[(*key, str(r["gas"]), str(r["scope"]))] = int(r["id"])
        if key not in sets:
            sets[key] = ResultSetInfo(
                set_id=int(r["id"]),
                source_id=key[0],
                period=key[1],
                version=int(r["version"]),
                method=str(r["method"]),
                grade=str(r["grade"]),
                coverage=float(r["coverage"]),
                substituted_share=float(r["substituted_share"]),
                trace=traces[int(r["id"])],
            )
    line_sets = [(ln, set_of[(ln.source, ln.period, ln.gas, ln.scope)]) for ln in placed]
    return Inputs(
        model=model,
        site=site,
        company=company,
        year=year,
        month=month,
        period=period,
        months=months,
        lines=placed,
        sets=sets,
        line_sets=line_sets,
        production=production,
        production_units=units,
        production_docs=docs,
        attachments=attachments,
        problems=problems,
        proposals=proposals,
    )


def evidence_month(item: Evidence) -> str | None:
    """The month (YYYY-MM) an attachment belongs to: a source-month's, or a manual entry's
    period start (``manual/<site>/<series>/<YYYYMMDD>-…``); None for a request's."""
    if item.target_kind == "source_month":
        return item.target_ref.rsplit("/", 1)[-1]
    if item.target_kind == "manual_entry":
        parts = item.target_ref.split("/")
        if len(parts) >= 4 and len(parts[3]) >= 6 and parts[3][:6].isdigit():
            return f"{parts[3][:4]}-{parts[3][4:6]}"
    return None


def month_attachments(
    conn: sa.Connection, site_id: str, months: list[str]
) -> list[tuple[str, Evidence]]:
    """The site's evidence files of ``months``, by month then upload order."""
    wanted = set(months)
    found = [(evidence_month(item), item) for item in list_evidence(conn, site_id)]
    return sorted(
        ((m, item) for m, item in found if m is not None and m in wanted),
        key=lambda pair: (pair[0], pair[1].id),
    )


def _traces(conn: sa.Connection, set_ids: list[int]) -> dict[int, dict[str, Any]]:
    rs = schema.result_sets
    out: dict[int, dict[str, Any]] = {}
    for start in range(0, len(set_ids), 900):
        chunk = set_ids[start : start + 900]
        for set_id, trace in conn.execute(sa.select(rs.c.id, rs.c.trace).where(rs.c.id.in_(chunk))):
            out[int(set_id)] = orjson.loads(trace)
    return out


def _production(
    conn: sa.Connection, site: Site, period: Period, months: list[str]
) -> tuple[dict[str, dict[str, float]], dict[str, str], dict[str, dict[str, list[str]]]]:
    """Production series per month: entries spread pro rata by days, as accounting does."""
    values: dict[str, dict[str, float]] = {}
    units: dict[str, str] = {}
    docs: dict[str, dict[str, list[str]]] = {}
    month_periods = [m for m in period.months() if m.label in months]
    for series in site.series:
        if series.kind != "production":
            continue
        spread = data.spread(data.series_entries(conn, site.id, series.id), month_periods)
        per_month: dict[str, float] = defaultdict(float)
        refs: dict[str, list[str]] = defaultdict(list)
        for label, entries in spread.items():
            for entry, share in entries:
                per_month[label] += entry.value * share
                refs[label].append(entry.document_ref)
        values[series.id] = dict(per_month)
        units[series.id] = series.unit
        docs[series.id] = dict(refs)
    return values, units, docs


def upload_due(month_label: str) -> dt.date:
    """Monthly evidence is due 40 natural days after the month ends (report-templates §2.3)."""
    first_next = first_day(index(month_label) + 1)
    return first_next - dt.timedelta(days=1) + dt.timedelta(days=40)
