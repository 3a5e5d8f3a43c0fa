"""``GET /api/v1/emissions``: results of accounting runs, grouped, with their traces
(:mod:`tansuan.views.emissions`); ``GET /results/{id}/trace``: one result's trace."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from tansuan.views.emissions import node_emissions, result_set_trace
from tansuan.web.deps import IdPath, ScopeDep, StoreDep
from tansuan.web.schemas import EmissionsOut, TraceOut

router = APIRouter(prefix="/api/v1", tags=["emissions / 排放"])

By = Literal["source", "scope", "gas", "source_type", "carrier", "node", "period"]


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
def result_trace(
    set_id: IdPath, request: Request, store: StoreDep, scope: ScopeDep
) -> dict[str, Any]:
    """Inputs, factors, formula and software version behind one result set."""
    return result_set_trace(store, scope, set_id,
                            default_tz=request.app.state.settings.default_timezone)  # fmt: skip
