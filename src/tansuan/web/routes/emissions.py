"""``GET /api/v1/emissions``: results of accounting runs, grouped, with their traces."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from tansuan.accounting import results
from tansuan.accounting.engine import Accountant
from tansuan.accounting.periods import parse_period
from tansuan.accounting.rollup import Line, grams_to_tonnes, rollup
from tansuan.errors import NotFound
from tansuan.web.deps import StoreDep

router = APIRouter(prefix="/api/v1", tags=["emissions / 排放"])

By = Literal["source", "scope", "gas", "source_type", "carrier", "node", "period"]


def get_accountant(request: Request) -> Accountant:
    accountant: Accountant | None = getattr(request.app.state, "accountant", None)
    if accountant is None:
        raise NotFound("no site model is loaded: run `tansuan site load FILE` first")
    return accountant


AccountantDep = Annotated[Accountant, Depends(get_accountant)]


@router.get("/emissions", summary="Emissions of a node for a period, grouped, with traces")
def emissions(
    store: StoreDep,
    accountant: AccountantDep,
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
