"""Sites, their hierarchy, point series, live values (SSE) and data quality."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from tansuan import clock
from tansuan.store.queries import Resolution
from tansuan.views import quality
from tansuan.web.deps import ScopeDep, StoreDep
from tansuan.web.pagination import Limit, Offset, page, with_etag
from tansuan.web.schemas import LiveOut, Page, QualityOut, SeriesOut, SiteTree

router = APIRouter(prefix="/api/v1/sites", tags=["sites / 站点"])

#: Seconds between two looks at the store by a live stream (values show within 2 s).
LIVE_POLL_S = 0.5


def _default_range(
    start: dt.datetime | None, end: dt.datetime | None
) -> tuple[dt.datetime, dt.datetime]:
    end = end or clock.now()
    return start or end - dt.timedelta(days=1), end


@router.get("", summary="Sites you can see / 可见站点", response_model=Page)
def list_sites(
    store: StoreDep, scope: ScopeDep, limit: Limit = 100, offset: Offset = 0
) -> dict[str, Any]:
    """Your organisation's sites, then sites opened to you by a share grant."""
    with store.read() as conn:
        return page(scope.sites(conn), limit, offset)


@router.get("/{site}/tree", summary="Hierarchy of a site / 站点层级", response_model=SiteTree)
def site_tree(site: str, request: Request, store: StoreDep, scope: ScopeDep) -> Response:
    """Areas, devices and points (only the granted subtree for a grantee)."""
    with store.read() as conn:
        return with_etag(request, scope.tree(conn, site))


@router.get("/{site}/points/{point}/series", summary="A point's history / 测点历史",
            response_model=SeriesOut)  # fmt: skip
def point_series(
    site: str,
    point: str,
    request: Request,
    store: StoreDep,
    scope: ScopeDep,
    resolution: Annotated[Resolution, Query(description="raw, hour, day or month")] = "hour",
    start: Annotated[dt.datetime | None, Query(alias="from", description="ISO 8601, aware")] = None,
    end: Annotated[dt.datetime | None, Query(alias="to", description="ISO 8601, aware")] = None,
) -> Response:
    """Values in ``[from, to)`` (default: the last 24 h), clipped to a grant's window."""
    lo, hi = _default_range(start, end)
    with store.read() as conn:
        rows, access = scope.series(conn, site, point, lo, hi, resolution)
    if access.grant is not None:
        lo, hi = access.clip(lo, hi)
        with store.write() as conn:
            scope.log(
                conn,
                access,
                f"series {site}/{point} {resolution} {lo.isoformat()}..{hi.isoformat()}",
                "raw"
                if resolution == "raw"
                else ("monthly" if resolution == "month" else "hourly"),
            )
    body = {
        "site": site,
        "point": point,
        "resolution": resolution,
        "from": lo.isoformat(),
        "to": hi.isoformat(),
        "items": rows,
    }
    return with_etag(request, body)


@router.get("/{site}/devices/{device}/live", summary="Latest values of a device / 设备实时值",
            response_model=LiveOut)  # fmt: skip
def device_live(site: str, device: str, store: StoreDep, scope: ScopeDep) -> dict[str, Any]:
    with store.read() as conn:
        values, access = scope.latest(conn, site, device)
    if access.grant is not None:
        with store.write() as conn:
            scope.log(conn, access, f"live {site}/{device}", "raw")
    return {"site": site, "device": device, "values": values}


@router.get("/{site}/devices/{device}/stream", summary="Live values as server-sent events")
async def device_stream(
    site: str, device: str, request: Request, store: StoreDep, scope: ScopeDep
) -> StreamingResponse:
    """``text/event-stream``: an event ``values`` with every point's latest value when any
    changes (the store is checked every 0.5 s, so gateways in other processes count too)."""

    def look() -> tuple[list[dict[str, Any]], Any]:
        with store.read() as conn:
            return scope.latest(conn, site, device)

    first, access = await run_in_threadpool(look)  # raises 404/403 before streaming
    if access.grant is not None:
        with store.write() as conn:
            scope.log(conn, access, f"live stream {site}/{device}", "raw")

    async def events() -> AsyncIterator[bytes]:
        last: Any = None
        values = first
        while True:
            if values != last:
                last = values
                yield b"event: values\ndata: " + orjson.dumps(values) + b"\n\n"
            for _ in range(int(15 / LIVE_POLL_S)):
                if await request.is_disconnected():
                    return
                await asyncio.sleep(LIVE_POLL_S)
                values, _ = await run_in_threadpool(look)
                if values != last:
                    break
            else:
                yield b": keep-alive\n\n"

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/{site}/quality", summary="Data quality of a site / 数据质量",
            response_model=QualityOut)  # fmt: skip
def site_quality(
    site: str,
    store: StoreDep,
    scope: ScopeDep,
    day: Annotated[dt.date | None, Query(description="local day (default: today)")] = None,
    limit: Limit = 200,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Per point: readings expected vs received today, last reading, stale flag; per
    source: substituted share of this month's results."""
    with store.read() as conn:
        access = scope.access(conn, site, "", "hourly")
        report = quality.site_quality(conn, site, day)
    if access.grant is not None:
        with store.write() as conn:
            scope.log(conn, access, f"quality {site}", "hourly")
    report["points"] = page(report["points"], limit, offset)
    return report
