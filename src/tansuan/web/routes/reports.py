"""``POST /api/v1/reports/{kind}``: issue a report with its ledger receipt, and download it.

Issuing appends a ``report`` leaf to the ledger (what ``tansuan verify --report FILE``
checks). The caller needs read access to the site's ``reports`` data: its own
organisation, or a share grant of class ``reports`` whose window covers the year; a read
under a grant is logged in the audit table and the ledger like every other.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from tansuan.accounting.periods import month_period, year_period
from tansuan.errors import PermissionDenied
from tansuan.reports.api import issue_report
from tansuan.store import scoped
from tansuan.store.timeutil import to_us
from tansuan.web.deps import LedgerDep, ScopeDep, StoreDep

router = APIRouter(prefix="/api/v1", tags=["reports / 报告"])

MEDIA = {
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.post("/reports/{kind}", summary="Issue a report (PDF, HTML or XLSX) with its receipt")
async def issue(
    request: Request,
    store: StoreDep,
    scope: ScopeDep,
    ledger: LedgerDep,
    kind: Literal["annual", "inventory", "energy"],
    site: Annotated[str, Query(description="site id")],
    year: Annotated[int, Query(ge=2000, le=2100)],
    month: Annotated[int | None, Query(ge=1, le=12)] = None,
    format: Annotated[Literal["pdf", "html", "xlsx"], Query()] = "pdf",
    lang: Annotated[Literal["zh", "en"], Query()] = "zh",
    layout: Annotated[
        Literal["power", "generic"] | None,
        Query(description="default: the site's sector (power → power, any other → generic)"),
    ] = None,
) -> Response:
    """The issued report as a download of ``format``, its receipt inside (PDF: an
    incremental update; HTML: after a marker; XLSX: the ZIP comment). The annual report's
    layout follows the site's sector unless ``layout`` confirms it."""
    period = year_period(year) if month is None else month_period(year, month)
    with store.write() as conn:
        org, site_key, path = scoped.locate(conn, scope, site)
        if site_key is None or path:
            raise PermissionDenied("报告按站点出具 / reports are issued for a site")
        access = scope.access(conn, site_key, "", "reports")
        if access.grant is not None:
            start, end = period.utc_bounds(request.app.state.settings.default_timezone)
            if to_us(start) < access.grant.window_from_us or to_us(end) > access.grant.window_to_us:
                raise PermissionDenied("请求的期间不在授权范围内 / the period is outside the grant")
        scope.log(conn, access, f"report {kind} {site_key} {period.label}", "reports")
    model = request.app.state.accountants.of(org).model
    issued = await run_in_threadpool(
        issue_report, store, model, ledger, kind, site_key, year, month, format, lang,
        layout=layout,
    )  # fmt: skip
    name = f"{site_key}-{kind}-{period.label}"
    return Response(
        issued.document,
        media_type=MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="{name}.{format}"'},
    )
