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
from tansuan.web.deps import IngestPrincipal, SettingsDep, StoreDep
from tansuan.web.jobs import Job
from tansuan.web.limits import too_large
from tansuan.web.responses import JSONBytes
from tansuan.web.routes.jobs import JobOut, jobs_of
from tansuan.web.schemas import ManualUpload

router = APIRouter(prefix="/api/v1/manual-data", tags=["manual data"])


@router.post(
    "",
    summary="Upload manual data (CSV/XLSX) / 上传手工数据",
    response_model=ManualUpload,
    responses={
        202: {"model": JobOut, "description": "A large file: imported as a background job"},
        413: {"description": "Larger than a limit (bytes, inflated bytes, rows, columns)"},
    },
)
async def upload_manual_data(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    principal: IngestPrincipal,
    file: Annotated[UploadFile, File(description="CSV (UTF-8) or XLSX, header in row 1")],
    kind: Annotated[
        str | None, Form(description="fuel, lab, production or energy; guessed if absent")
    ] = None,
) -> JSONBytes:
    """Store the good rows; report each bad row with its row number (header = row 1).

    Reading, checking and writing run off the event loop, the writes in transactions of
    ``TANSUAN_UPLOAD_JOB_BATCH_ROWS`` entries. A file of more than
    ``TANSUAN_UPLOAD_JOB_THRESHOLD_ROWS`` data rows is imported as a background job: the
    answer is 202 with a ``Location`` to ``GET /api/v1/jobs/{id}`` (status, rows done of
    total, the result when done). Larger than ``TANSUAN_UPLOAD_MAX_BYTES_MANUAL_DATA``, an
    XLSX inflating beyond ``TANSUAN_UPLOAD_MAX_INFLATED_BYTES``, more rows than
    ``TANSUAN_UPLOAD_MAX_ROWS`` or columns than ``TANSUAN_UPLOAD_MAX_COLUMNS`` → 413 and
    nothing is stored.
    """
    limit = settings.upload_max_bytes_manual_data
    data = await file.read(limit + 1)  # one byte over the limit is enough to refuse it
    if len(data) > limit:
        raise too_large(limit, "upload_max_bytes_manual_data")
    name = file.filename or "upload.csv"
    limits = manual.TableLimits(
        max_rows=settings.upload_max_rows,
        max_columns=settings.upload_max_columns,
        max_inflated_bytes=settings.upload_max_inflated_bytes,
    )
    digest = hashlib.sha256(data).hexdigest()
    hooks = _hooks(request)

    def read_and_check() -> list[list[Any]]:
        rows = manual.read_table_isolated(name, data, limits)
        header = [str(c or "").strip().lower() for c in rows[0]] if rows else []
        if "site" in header:  # another organisation's site: 404 before anything else
            at = header.index("site")
            with store.read() as connection:
                check_ingest_sites(
                    connection, principal, {str(r[at]).strip() for r in rows[1:] if len(r) > at}
                )
        if header:
            manual.table_kind(header, kind)  # a wrong header is refused before any job
        return rows

    rows = await run_in_threadpool(read_and_check)
    batch_rows = settings.upload_job_batch_rows
    if len(rows) - 1 <= settings.upload_job_threshold_rows:
        result = await run_in_threadpool(
            lambda: manual.write_prepared(
                store,
                manual.prepare_table(store, rows, kind=kind, file_sha256=digest),
                source="http",
                hooks=hooks,
                batch_rows=batch_rows,
            )
        )
        return JSONBytes(_public(result))

    def work(job: Job) -> dict[str, Any]:
        prepared = manual.prepare_table(store, rows, kind=kind, file_sha256=digest)
        refused = len(prepared.result.errors)
        job.rows_total = len(prepared.entries) + refused
        job.rows_done = refused
        manual.write_prepared(
            store,
            prepared,
            source="http",
            hooks=hooks,
            batch_rows=batch_rows,
            progress=lambda written: setattr(job, "rows_done", refused + written),
        )
        return _public(prepared.result)

    job = jobs_of(request).start("manual-data", principal, len(rows) - 1, work)
    return JSONBytes(job.public(), status_code=202, headers={"Location": job.public()["location"]})


def _public(result: manual.ImportResult) -> dict[str, Any]:
    return {
        "kind": result.kind,
        "batch_id": result.batch_id,
        "rows": result.rows,
        "new": result.new,
        "duplicates": result.duplicates,
        "versioned": result.versioned,
        "rejected": len(result.errors),
        "errors": [e.__dict__ for e in result.errors],
    }


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
