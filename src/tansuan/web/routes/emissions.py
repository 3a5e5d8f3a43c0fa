"""``GET /api/v1/emissions``: results of accounting runs, grouped, with their traces."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select

from tansuan.accounting import results
from tansuan.accounting.engine import Accountant
from tansuan.accounting.periods import parse_period
from tansuan.errors import NotFound, PermissionDenied
from tansuan.store import schema, scoped
from tansuan.store.timeutil import to_us
from tansuan.views.emissions import node_emissions
from tansuan.web.deps import ScopeDep, StoreDep
from tansuan.web.schemas import EmissionsOut, TraceOut

router = APIRouter(prefix="/api/v1", tags=["emissions / 排放"])

By = Literal["source", "scope", "gas", "source_type", "carrier", "node", "period"]


def get_accountant(request: Request) -> Accountant:
    accountant: Accountant | None = getattr(request.app.state, "accountant", None)
    if accountant is None:
        raise NotFound("no site model is loaded: run `tansuan site load FILE` first")
    return accountant


AccountantDep = Annotated[Accountant, Depends(get_accountant)]


@router.get("/emissions", summary="Emissions of a node for a period, grouped, with traces",
            response_model=EmissionsOut)  # fmt: skip
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
    return node_emissions(store, scope, request.app.state.accountants, node, period, by,
                          traces=traces,
                          default_tz=request.app.state.settings.default_timezone)  # fmt: skip


@router.get("/results/{set_id}/trace", summary="The trace of one result / 结果的溯源",
            response_model=TraceOut)  # fmt: skip
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
