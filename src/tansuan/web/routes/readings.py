"""``POST /api/v1/readings``: batch ingest of readings as JSON or CSV."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from tansuan.errors import InputError
from tansuan.ingest import columns
from tansuan.ingest.result import IngestResult
from tansuan.store.scoped import check_ingest_sites
from tansuan.web.deps import IngestorDep, IngestPrincipal, SettingsDep, StoreDep
from tansuan.web.limits import too_large
from tansuan.web.responses import JSONBytes

router = APIRouter(prefix="/api/v1", tags=["readings"])


class RowErrorPublic(BaseModel):
    index: int
    site: str | None
    point: str | None
    code: str
    detail: str


class IngestPublic(BaseModel):
    """The answer to a batch: sent only after the accepted rows are durably committed."""

    batch_id: int | None
    received: int
    accepted: int
    new: int
    duplicates: int
    versioned: int
    rejected: int
    errors: list[RowErrorPublic]


def public(result: IngestResult) -> dict[str, Any]:
    return {
        "batch_id": result.batch_id,
        "received": result.received,
        "accepted": result.accepted,
        "new": result.new,
        "duplicates": result.duplicates,
        "versioned": result.versioned,
        "rejected": result.rejected,
        "errors": [e.__dict__ for e in result.errors],
    }


_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {
                            "type": "object",
                            "title": "columnar",
                            "required": ["site", "point", "ts", "value"],
                            "properties": {
                                "site": {"type": ["string", "array"]},
                                "point": {"type": "array", "items": {"type": "string"}},
                                "ts": {"type": "array", "description": "ISO 8601 or epoch s"},
                                "value": {"type": "array", "items": {"type": "number"}},
                                "unit": {"type": ["string", "array", "null"]},
                                "quality": {"type": ["string", "array", "null"]},
                            },
                        },
                        {
                            "type": "object",
                            "title": "rows",
                            "properties": {"readings": {"type": "array"}},
                        },
                    ]
                },
                "example": {
                    "site": "demo-site",
                    "point": ["fan-001.power", "fan-001.power"],
                    "ts": ["2026-11-26T08:00:00+08:00", "2026-11-26T08:01:00+08:00"],
                    "value": [41.5, 42.0],
                    "unit": "kW",
                },
            },
            "text/csv": {
                "schema": {"type": "string"},
                "example": "site,point,ts,value,unit,quality\n"
                "demo-site,fan-001.power,2026-11-26T00:00:00Z,41.5,kW,N\n",
            },
        },
    }
}


@router.post(
    "/readings",
    response_model=IngestPublic,
    openapi_extra=_BODY_DOC,
    summary="Ingest a batch of readings / 批量写入读数",
)
async def post_readings(
    request: Request,
    ingestor: IngestorDep,
    store: StoreDep,
    settings: SettingsDep,
    principal: IngestPrincipal,
) -> JSONBytes:
    """Store a batch; answers after commit, with an error per rejected row.

    Status 200 whenever the body could be read (rejected rows are listed in ``errors``
    and kept in quarantine; re-sending them will not help). A body that cannot be read
    at all is a 400/422 problem document and nothing is stored; a body larger than
    ``TANSUAN_UPLOAD_MAX_BYTES_READINGS`` is a 413 (refused as it streams in).
    Decoding and the site check run in a worker thread, off the event loop.
    """
    body = await request.body()  # bounded while streaming by web.limits.UploadLimits
    if len(body) > settings.upload_max_bytes_readings:
        raise too_large(settings.upload_max_bytes_readings, "upload_max_bytes_readings")
    content_type = request.headers.get("content-type", "application/json").lower()
    if "csv" in content_type:
        decode = columns.from_csv
    elif "json" in content_type:
        decode = columns.from_json
    else:
        raise InputError(f"unsupported content type {content_type!r}; send JSON or CSV")

    def decode_and_check() -> columns.Columns:
        decoded = decode(body)
        sites = {decoded.site} if isinstance(decoded.site, str) else set(decoded.site)
        with store.read() as connection:
            check_ingest_sites(connection, principal, {str(x) for x in sites})
        return decoded

    decoded = await run_in_threadpool(decode_and_check)
    result = await run_in_threadpool(
        ingestor.ingest_columns,
        decoded.site,
        decoded.point,
        decoded.ts_us,
        decoded.value,
        unit=decoded.unit,
        quality=decoded.quality,
        source="http",
        errors=decoded.errors,
    )
    return JSONBytes(public(result))
