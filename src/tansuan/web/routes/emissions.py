"""``GET /api/v1/emissions``: results of accounting runs, grouped, with their traces."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select

from tansuan.accounting import results
from tansuan.accounting.engine import Accountant
from tansuan.accounting.periods import parse_period
from tansuan.accounting.rollup import Line, grams_to_tonnes, rollup
from tansuan.errors import NotFound, PermissionDenied
from tansuan.store import schema, scoped
from tansuan.store.scoped import Access
from tansuan.store.timeutil import to_us
from tansuan.web.deps import ScopeDep, StoreDep

router = APIRouter(prefix="/api/v1", tags=["emissions / 排放"])

By = Literal["source", "scope", "gas", "source_type", "carrier", "node", "period"]


def get_accountant(request: Request) -> Accountant:
    accountant: Accountant | None = getattr(request.app.state, "accountant", None)
    if accountant is None:
        raise NotFound("no site model is loaded: run `tansuan site load FILE` first")
    return accountant


AccountantDep = Annotated[Accountant, Depends(get_accountant)]


def _authorise(
    request: Request, store: Any, scope: Any, node: str, chosen: Any
) -> tuple[Accountant, Access, bool]:
    """The node's accountant, the access that opens it, and whether only the annual
    total may be shown (a grant of class 'annual' without 'monthly')."""
    scope.require("read")
    with store.read() as conn:
        org, site, path = scoped.locate(conn, scope, node)
        if site is None:
            access = Access(own=True)
            annual_only = False
        else:
            try:
                access = scope.access(conn, site, path, "monthly")
                annual_only = False
            except PermissionDenied:
                if len(chosen.label) != 4:
                    raise
                access = scope.access(conn, site, path, "annual")
                annual_only = True
    if access.grant is not None:
        start, end = chosen.utc_bounds(request.app.state.settings.default_timezone)
        lo, hi = to_us(start), to_us(end)
        if lo < access.grant.window_from_us or hi > access.grant.window_to_us:
            raise PermissionDenied("请求的期间不在授权范围内 / the period is outside the grant")
    return request.app.state.accountants.of(org), access, annual_only


@router.get("/emissions", summary="Emissions of a node for a period, grouped, with traces")
def emissions(
    request: Request,
    store: StoreDep,
    scope: ScopeDep,
    node: Annotated[str, Query(description="id of a group, company, site, area or device")],
    period: Annotated[str, Query(description="2025, 2025-03, 2025-Q1 or 2025-01-01..2025-02-01")],
    by: Annotated[By, Query(description="how to group the totals")] = "scope",
    traces: Annotated[bool, Query(description="include each result's trace")] = True,
) -> dict[str, Any]:
    """Current results under ``node`` for every month of ``period``.

    Totals are location-based; Scope 2 market-based figures are given beside them and
    never added in. Every number carries its result set's version and (optionally) trace.
    """
    chosen = parse_period(period)
    accountant, access, annual_only = _authorise(request, store, scope, node, chosen)
    months = [m.label for m in chosen.months()]
    model = accountant.model
    sites = [
        site
        for site in model.sites()
        if node in (model.organisation.id, site.id)
        or any(
            node == company.id and site in company.sites for company in model.organisation.companies
        )
        or any(node in (*areas, device.id) for areas, device in site.iter_devices())
    ]
    if not sites:
        raise NotFound(f"no node {node!r} in the loaded site model")
    lines: list[Line] = []
    items: list[dict[str, Any]] = []
    trace_ids: set[int] = set()
    with store.read() as conn:
        for site in sites:
            placement = accountant.placement(site.id)
            methods = {s.id: s for s in site.sources}
            for row in results.current_lines(conn, site.id, months):
                path = placement.get(row["source_id"], ())
                if node not in path:
                    continue
                source = methods.get(row["source_id"])
                line = Line(
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
                lines.append(line)
                items.append(
                    {
                        "site": site.id,
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
                )
                trace_ids.add(int(row["id"]))
        trace_map = {i: results.trace_of(conn, i) for i in sorted(trace_ids)} if traces else {}
    if access.grant is not None:
        with store.write() as conn:
            scope.log(
                conn,
                access,
                f"emissions node={node} period={period} by={by}",
                "annual" if annual_only else "monthly",
            )
    if annual_only:
        items, trace_map = [], {}
    counted = [ln for ln in lines if ln.scope != "2-market"]
    groups = rollup(counted, by)
    return {
        "node": node,
        "period": chosen.label,
        "months": months,
        "by": by,
        "total_co2e_t": grams_to_tonnes(sum(ln.co2e_g for ln in counted)),
        "groups": [{"key": k, "co2e_t": grams_to_tonnes(v)} for k, v in sorted(groups.items())],
        "market_based_co2e_t": grams_to_tonnes(
            sum(ln.co2e_g for ln in lines if ln.scope == "2-market")
        ),
        "results": items,
        "traces": {str(k): v for k, v in trace_map.items()},
    }


@router.get("/results/{set_id}/trace", summary="The trace of one result / 结果的溯源")
def result_trace(set_id: int, request: Request, store: StoreDep, scope: ScopeDep) -> dict[str, Any]:
    """Inputs, factors, formula and software version behind one result set."""
    rs = schema.result_sets
    with store.read() as conn:
        row = conn.execute(
            select(rs.c.site_id, rs.c.source_id, rs.c.period, rs.c.version).where(rs.c.id == set_id)
        ).first()
        if row is None:
            raise NotFound(f"no result set {set_id}")
        access = scope.access(
            conn, row.site_id, scoped.source_path(conn, row.site_id, row.source_id), "monthly"
        )
        if access.grant is not None:
            start, end = parse_period(row.period).utc_bounds(
                request.app.state.settings.default_timezone
            )
            if to_us(start) < access.grant.window_from_us or to_us(end) > access.grant.window_to_us:
                raise PermissionDenied(
                    "结果期间不在授权范围内 / the result's period is outside the grant"
                )
        trace = results.trace_of(conn, set_id)
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
    }
