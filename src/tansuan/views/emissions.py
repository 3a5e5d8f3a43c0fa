"""Emissions of a node for a period (``GET /emissions``, the emissions page): the current
accounting results under the node, month by month, grouped, with their traces; one
result's trace (``GET /results/{id}/trace``); an accounting run as ``tansuan account``
prints it.

Totals are location-based; Scope 2 market-based figures are given beside them and never
added in. A grant of class ``annual`` without ``monthly`` opens the year's totals only:
the per-result rows and traces are withheld. A read under a grant is logged.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tansuan import clock
from tansuan.accounting import results
from tansuan.accounting.engine import Accountant, RunReport
from tansuan.accounting.periods import PROVISIONAL_REASON, Period, is_provisional, parse_period
from tansuan.accounting.problems import INCOMPLETE_REASON, PROBLEM_STATES
from tansuan.accounting.registry import Accountants
from tansuan.accounting.rollup import Line, grams_to_tonnes, rollup
from tansuan.domain.scope import Scope as EmissionScope
from tansuan.domain.scope import in_total
from tansuan.errors import NotFound, PermissionDenied, VerificationFailed
from tansuan.ledger.bound import check_result_sets, deleted_result_sets
from tansuan.store import evidence, schema, scoped
from tansuan.store.scoped import Access, Scope
from tansuan.store.timeutil import to_us


def authorise(
    connection: Any, scope: Scope, node: str, chosen: Period, default_tz: str
) -> tuple[str, Access, bool]:
    """The node's organisation, the access that opens it, and whether only the annual
    total may be shown (a grant of class ``annual`` without ``monthly``).

    Raises
    ------
    PermissionDenied
        The caller may not read the node, or the period is outside the grant.
    """
    scope.require("read")
    org, site, path = scoped.locate(connection, scope, node)
    if site is None:
        access, annual_only = Access(own=True), False
    else:
        try:
            access, annual_only = scope.access(connection, site, path, "monthly"), False
        except PermissionDenied:
            if len(chosen.label) != 4:
                raise
            access, annual_only = scope.access(connection, site, path, "annual"), True
    if access.grant is not None:
        start, end = chosen.utc_bounds(default_tz)
        if to_us(start) < access.grant.window_from_us or to_us(end) > access.grant.window_to_us:
            raise PermissionDenied("请求的期间不在授权范围内 / the period is outside the grant")
    return org, access, annual_only


def sites_under(accountant: Accountant, node: str) -> list[Any]:
    """The sites of the accountant's model at or under ``node`` (the organisation, a
    company, a site, an area or a device); NotFound when none."""
    model = accountant.model
    companies = model.organisation.companies
    found = [
        site
        for site in model.sites()
        if node in (model.organisation.id, site.id)
        or any(node == company.id and site in company.sites for company in companies)
        or any(node in (*areas, device.id) for areas, device in site.iter_devices())
    ]
    if not found:
        raise NotFound(f"no node {node!r} in the loaded site model")
    return found


def _line(row: dict[str, Any], source: Any, path: tuple[str, ...]) -> Line:
    return Line(
        source=row["source_id"],
        period=row["period"],
        gas=row["gas"],
        scope=row["scope"],
        source_type=row["method"],
        carrier=(source.fuel or source.material or source.method) if source else "",
        path=path,
        mass_g=int(row["mass_g"]),
        co2e_g=int(row["co2e_g"]),
    )


def _item(site: str, row: dict[str, Any], line: Line) -> dict[str, Any]:
    return {
        "site": site,
        "source": line.source,
        "month": line.period,
        "result_set": row["id"],
        "version": row["version"],
        "method": line.source_type,
        "scope": line.scope,
        "gas": line.gas,
        "mass_t": grams_to_tonnes(line.mass_g),
        "co2e_t": grams_to_tonnes(line.co2e_g),
        "grade": row["grade"],
        "coverage": row["coverage"],
        "substituted_share": row["substituted_share"],
    }


def node_results(
    connection: Any, accountant: Accountant, node: str, months: list[str], traces: bool
) -> tuple[list[Line], list[dict[str, Any]], dict[int, Any]]:
    """The current result lines under ``node`` in ``months``, each as a row, and the
    traces of their result sets (when ``traces``)."""
    lines, items, trace_map, _ = node_results_and_problems(
        connection, accountant, node, months, traces
    )
    return lines, items, trace_map


def node_results_and_problems(
    connection: Any, accountant: Accountant, node: str, months: list[str], traces: bool
) -> tuple[list[Line], list[dict[str, Any]], dict[int, Any], list[dict[str, Any]]]:
    """:func:`node_results` and the source-months under ``node`` that are failed or
    missing (each ``{site, source, month, result_set, method, state, co2e_t: None,
    problem, fix}``): no month is left out of what a node shows."""
    lines: list[Line] = []
    items: list[dict[str, Any]] = []
    unresolved: list[dict[str, Any]] = []
    trace_ids: set[int] = set()
    for site in sites_under(accountant, node):
        placement = accountant.placement(site.id)
        methods = {s.id: s for s in site.sources}
        for row in results.current_lines(connection, site.id, months):
            path = placement.get(row["source_id"], ())
            if node not in path:
                continue
            line = _line(row, methods.get(row["source_id"]), path)
            lines.append(line)
            items.append(_item(site.id, row, line))
            trace_ids.add(int(row["id"]))
        for row in results.problem_sets(connection, site.id, months):
            if node not in placement.get(row["source_id"], ()):
                continue
            if row["state"] not in PROBLEM_STATES:
                continue
            unresolved.append(
                {
                    "site": site.id,
                    "source": row["source_id"],
                    "month": row["period"],
                    "result_set": row["id"],
                    "version": row["version"],
                    "method": row["method"],
                    "state": row["state"],
                    "co2e_t": None,  # unknown, never 0
                    "grade": row["grade"],
                    "problem": row["problem"],
                    "fix": row["fix"],
                }
            )
    require_bound(connection, trace_ids | {int(p["result_set"]) for p in unresolved})
    deleted = [
        gone
        for site in sites_under(accountant, node)
        for gone in deleted_result_sets(connection, site.id, months)
    ]
    if deleted:
        raise VerificationFailed(
            "核算结果被删除，拒绝提供 / logged results are missing from the store, not served: "
            + " | ".join(deleted)
        )
    trace_map = {i: results.trace_of(connection, i) for i in sorted(trace_ids)} if traces else {}
    return lines, items, trace_map, unresolved


def require_bound(connection: Any, set_ids: set[int]) -> None:
    """Refuse to serve result sets whose stored lines, trace or state do not match their
    ledger leaf (or that no leaf logs): one leaf lookup and one trace digest per set.

    Raises
    ------
    VerificationFailed
        Naming each source-month that does not hold.
    """
    problems = check_result_sets(connection, set_ids)
    if problems:
        raise VerificationFailed(
            "核算结果与账本不符，拒绝提供 / results do not match the ledger, not served: "
            + " | ".join(problems[i] for i in sorted(problems))
        )


def node_emissions(
    store: Any,
    scope: Scope,
    accountants: Accountants,
    node: str,
    period: str,
    by: str,
    *,
    traces: bool = True,
    default_tz: str = "UTC",
) -> dict[str, Any]:
    """Current results under ``node`` for every month of ``period`` (``2025``, ``2025-03``,
    ``2025-Q1`` or ``a..b``), totalled (location-based) and grouped ``by``
    (:func:`tansuan.accounting.rollup.rollup`), with the market-based Scope 2 total beside
    them, each result's row and (optionally) trace."""
    chosen = parse_period(period)
    with store.read() as conn:
        org, access, annual_only = authorise(conn, scope, node, chosen, default_tz)
    accountant = accountants.of(org)
    months = [m.label for m in chosen.months()]
    with store.read() as conn:
        lines, items, trace_map, unresolved = node_results_and_problems(
            conn, accountant, node, months, traces
        )
    if access.grant is not None:
        with store.write() as conn:
            scope.log(conn, access, f"emissions node={node} period={period} by={by}",
                      "annual" if annual_only else "monthly")  # fmt: skip
    if annual_only:
        items, trace_map = [], {}
        unresolved = [{k: v for k, v in p.items() if k != "result_set"} for p in unresolved]
    counted = [ln for ln in lines if in_total(ln.scope)]
    groups = rollup(counted, by)
    provisional = is_provisional(chosen, clock.today(ZoneInfo(default_tz)))
    return {
        "node": node,
        "period": chosen.label,
        "months": months,
        "by": by,
        "total_co2e_t": grams_to_tonnes(sum(ln.co2e_g for ln in counted)),
        "groups": [{"key": k, "co2e_t": grams_to_tonnes(v)} for k, v in sorted(groups.items())],
        "market_based_co2e_t": grams_to_tonnes(
            sum(ln.co2e_g for ln in lines if ln.scope == EmissionScope.MARKET)
        ),
        "results": items,
        "traces": {str(k): v for k, v in trace_map.items()},
        # An incomplete period (ending after today) holds results that can still change.
        "provisional": provisional,
        "provisional_reason": PROVISIONAL_REASON if provisional else None,
        # Failed or missing source-months: the total above leaves them out, so it is
        # incomplete — not for submission — until each is fixed.
        "problems": unresolved,
        "complete": not unresolved,
        "incomplete_reason": None if not unresolved else INCOMPLETE_REASON,
    }


def result_set_trace(store: Any, scope: Scope, set_id: int, *, default_tz: str) -> dict[str, Any]:
    """Inputs, factors, formula and software version behind one result set, when the
    caller may read its site's ``monthly`` data (under a grant: its period inside the
    grant's window; the read is logged)."""
    rs = schema.result_sets
    with store.read() as conn:
        row = conn.execute(
            select(rs.c.site_id, rs.c.source_id, rs.c.period, rs.c.version).where(rs.c.id == set_id)
        ).first()
        if row is None:
            raise NotFound(f"no result set {set_id}")
        source_path = scoped.source_path(conn, row.site_id, row.source_id)
        access = scope.access(conn, row.site_id, source_path, "monthly")
        if access.grant is not None:
            start, end = parse_period(row.period).utc_bounds(default_tz)
            if to_us(start) < access.grant.window_from_us or to_us(end) > access.grant.window_to_us:
                raise PermissionDenied(
                    "结果期间不在授权范围内 / the result's period is outside the grant"
                )
        require_bound(conn, {set_id})
        trace = results.trace_of(conn, set_id)
        rl = schema.result_lines
        lines = [
            {"gas": r.gas, "scope": r.scope, "mass_t": r.mass_g / 1e6, "co2e_t": r.co2e_g / 1e6}
            for r in conn.execute(
                select(rl.c.gas, rl.c.scope, rl.c.mass_g, rl.c.co2e_g)
                .where(rl.c.set_id == set_id)
                .order_by(rl.c.scope, rl.c.gas)
            )
        ]
        attached = evidence.list_evidence(
            conn, row.site_id, "source_month", f"{row.source_id}/{row.period}"
        )
    if access.grant is not None:
        with store.write() as conn:
            scope.log(conn, access, f"trace result_set={set_id}", "monthly")
    return {
        "result_set": set_id,
        "site": row.site_id,
        "source": row.source_id,
        "period": row.period,
        "version": row.version,
        "trace": trace,
        "lines": lines,
        # the files attached to this source-month, shown beside the number
        "evidence": [
            item.public() | {"download": f"/api/v1/sites/{item.site}/evidence/{item.id}"}
            for item in attached
        ],
    }


def run_record(
    report: RunReport, lines: list[Line], by: str, checks: dict[str, list[Any]]
) -> dict[str, Any]:
    """An accounting run as ``tansuan account --json`` prints it: what each source-month
    came to, the errors, the period's totals grouped ``by`` (location-based; Scope 2
    market-based beside them) and the CEMS cross-checks of each calculated~measured pair."""
    totals = rollup([ln for ln in lines if in_total(ln.scope)], by)
    return {
        "site": report.site,
        "period": report.period.label,
        "outcomes": report.outcomes(),
        "errors": [{"source": s, "month": m, "error": e} for s, m, e in report.errors],
        "total_co2e_t": grams_to_tonnes(
            sum(totals.values())
            if by != "node"
            else sum(ln.co2e_g for ln in lines if in_total(ln.scope))
        ),
        "by": by,
        "totals_co2e_t": {k: grams_to_tonnes(v) for k, v in sorted(totals.items())},
        "market_based_co2e_t": grams_to_tonnes(
            sum(ln.co2e_g for ln in lines if ln.scope == EmissionScope.MARKET)
        ),
        "results": [
            {
                "source": r.source_id,
                "month": r.period,
                "method": r.method,
                # a failed or missing month's CO2e is unknown: null, never 0
                "co2e_t": grams_to_tonnes(r.co2e_g) if r.state == "computed" else None,
                "grade": r.grade,
                "coverage": r.coverage,
                "substituted_share": r.substituted_share,
                "notes": list(r.notes),
                "state": r.state,
            }
            for r in report.computed
        ],
        "cross_checks": {
            pair: [
                {
                    "month": c.period,
                    "calculated_co2_t": _tonnes(c.calculated_co2_g),
                    "measured_co2_t": _tonnes(c.measured_co2_g),
                    "relative_difference": c.relative_difference,
                    "flagged": c.flagged,
                    "state": c.state,
                }
                for c in found
            ]
            for pair, found in checks.items()
        },
        # Added last so that earlier fields keep their place: an incomplete period's results
        # are provisional, and say why.
        "provisional": report.provisional,
        "provisional_reason": report.provisional_reason,
        # Every failed or missing source-month, with why and what to do (exit code 3).
        "problems": [
            {
                "source": r.source_id,
                "month": r.period,
                "state": r.state,
                "problem": r.problem,
                "fix": r.fix,
            }
            for r in report.problems()
        ],
        "complete": not report.problems(),
    }


def _tonnes(grams: int | None) -> float | None:
    return None if grams is None else grams_to_tonnes(grams)
