"""``POST /api/v1/manual-data``: upload a CSV/XLSX of invoices, lab analyses, production."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse

from tansuan.ingest import manual
from tansuan.platform import ledger_manual_hook
from tansuan.store.scoped import check_ingest_sites
from tansuan.web.deps import IngestPrincipal, StoreDep
from tansuan.web.responses import JSONBytes
from tansuan.web.schemas import ManualUpload

router = APIRouter(prefix="/api/v1/manual-data", tags=["manual data"])


@router.post(
    "",
    summary="Upload manual data (CSV/XLSX) / 上传手工数据",
    response_model=ManualUpload,
)
async def upload_manual_data(
    request: Request,
    store: StoreDep,
    principal: IngestPrincipal,
    file: Annotated[UploadFile, File(description="CSV (UTF-8) or XLSX, header in row 1")],
    kind: Annotated[
        str | None, Form(description="fuel, lab, production or energy; guessed if absent")
    ] = None,
) -> JSONBytes:
    """Store the good rows; report each bad row with its row number (header = row 1)."""
    data = await file.read()
    rows = manual.read_table(file.filename or "upload.csv", data)
    if rows and "site" in [str(c).strip() for c in rows[0]]:
        at = [str(c).strip() for c in rows[0]].index("site")
        with store.read() as connection:
            check_ingest_sites(
                connection, principal, {str(r[at]).strip() for r in rows[1:] if len(r) > at}
            )
    result = await run_in_threadpool(
        manual.import_table,
        store,
        rows,
        kind=kind,
        source="http",
        hooks=_hooks(request),
        file_sha256=hashlib.sha256(data).hexdigest(),
    )
    return JSONBytes(
        {
            "kind": result.kind,
            "batch_id": result.batch_id,
            "rows": result.rows,
            "new": result.new,
            "duplicates": result.duplicates,
            "versioned": result.versioned,
            "rejected": len(result.errors),
            "errors": [e.__dict__ for e in result.errors],
        }
    )


def _hooks(request: Request) -> list[Any]:
    """The deployment's manual-data hooks (a ledger leaf per entry, stale marks); an app
    built on a given store logs entries in its ledger, when it has one."""
    platform = getattr(request.app.state, "platform", None)
    if platform is not None:
        return list(platform.manual_hooks)
    ledger = getattr(request.app.state, "ledger", None)
    return [] if ledger is None else [ledger_manual_hook(ledger)]


@router.get("/templates/{kind}", summary="Template CSV of a kind / 下载模板")
def get_template(kind: str) -> PlainTextResponse:
    """The CSV template (header and one example row) of ``kind``."""
    return PlainTextResponse(
        manual.template(kind),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="tansuan-{kind}.csv"'},
    )
