"""Evidence files of a site: upload (``POST``), list and download (``GET``).

``POST /api/v1/sites/{site}/evidence`` takes a multipart form: ``file``, ``target_kind``
(``source_month`` | ``manual_entry`` | ``request``), ``target_ref`` and an optional
``note`` and ``media_type`` (default: the part's content type, or the file name's
extension when the client sent none). Roles as for manual data (the ``ingest``
permission, own organisation's sites). A type that is not accepted or bytes that do not
match it → 415; larger than ``TANSUAN_EVIDENCE_MAX_BYTES`` → 413; a missing or unknown
target → 422; nothing is stored for any of them (``tansuan.store.evidence.attach``).

Reading (list, download) needs read access to the site's monthly data (own site, or a
grant opening ``monthly``); a read under a grant is logged like every other.
A download re-hashes the bytes: a file that no longer matches its SHA-256 is refused
(409) instead of served.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from tansuan import clock
from tansuan.errors import LedgerError, UnprocessableInput, VerificationFailed
from tansuan.settings import Settings
from tansuan.store import evidence
from tansuan.store.scoped import check_ingest_sites
from tansuan.web.deps import IdPath, IngestPrincipal, LedgerDep, ScopeDep, SettingsDep, StoreDep
from tansuan.web.schemas import EvidenceList, EvidenceOut

router = APIRouter(prefix="/api/v1/sites", tags=["evidence"])

#: Data class a read of evidence needs under a grant (evidence belongs to months).
DATA_CLASS = "monthly"

#: Media type by file-name extension, when the client declares none.
_BY_EXTENSION = {
    ".pdf": evidence.PDF,
    ".jpg": evidence.JPEG,
    ".jpeg": evidence.JPEG,
    ".png": evidence.PNG,
    ".xlsx": evidence.XLSX,
}


def declared_type(filename: str, content_type: str | None, given: str | None) -> str:
    """The type the upload declares: the form's ``media_type``, else the part's content
    type, else (none or ``application/octet-stream``) the extension's."""
    if given:
        return given
    if content_type and content_type.split(";")[0].strip() != "application/octet-stream":
        return content_type
    dot = filename.rfind(".")
    return _BY_EXTENSION.get(filename[dot:].lower(), content_type or "") if dot >= 0 else ""


def _public(item: evidence.Evidence) -> dict[str, Any]:
    return item.public() | {"download": f"/api/v1/sites/{item.site}/evidence/{item.id}"}


def blobs_of(request: Request, settings: Settings) -> evidence.BlobStore:
    """The app's evidence blob store (``app.state.evidence_blobs``, else by settings)."""
    given = getattr(request.app.state, "evidence_blobs", None)
    return given if given is not None else evidence.blob_store(settings)


@router.post(
    "/{site}/evidence",
    summary="Attach an evidence file / 上传存证文件",
    response_model=EvidenceOut,
    status_code=201,
)
async def upload_evidence(
    request: Request,
    site: str,
    store: StoreDep,
    settings: SettingsDep,
    ledger: LedgerDep,
    principal: IngestPrincipal,
    file: Annotated[UploadFile | None, File(description="PDF, JPEG, PNG or XLSX")] = None,
    target_kind: Annotated[
        str | None, Form(description="source_month, manual_entry or request")
    ] = None,
    target_ref: Annotated[
        str | None, Form(description="<source>/<YYYY-MM>, the entry's manual/… ref, request/<id>")
    ] = None,
    note: Annotated[str, Form(description="what the file is")] = "",
    media_type: Annotated[str | None, Form(description="declared type (default: the part's)")] = (
        None
    ),
) -> dict[str, Any]:
    """Validate and store the file; one ``evidence`` leaf in the ledger."""
    with store.read() as connection:  # another organisation's site: 404 before anything
        check_ingest_sites(connection, principal, {site})
    if file is None:
        raise UnprocessableInput("no file sent (form field 'file') / 未上传文件", field="file")
    if not target_kind or not target_ref:
        raise UnprocessableInput(
            "say what the file is evidence for: target_kind and target_ref "
            "/ 请指明存证关联的对象（target_kind 与 target_ref）",
            field="target_ref" if target_kind else "target_kind",
        )
    if ledger is None:
        raise LedgerError("evidence needs the ledger (each file is a leaf) / 存证需要账本")
    limit = settings.evidence_max_bytes
    data = await file.read(limit + 1)  # one byte over the limit is enough to refuse it
    filename = file.filename or ""
    kind = declared_type(filename, file.content_type, media_type)
    blobs = blobs_of(request, settings)

    def write() -> evidence.Evidence:
        with store.write() as connection:
            return evidence.attach(
                connection,
                ledger=ledger,
                blobs=blobs,
                site=site,
                target_kind=target_kind,
                target_ref=target_ref,
                filename=filename,
                media_type=kind,
                data=data,
                by=principal.username,
                at=clock.now(),
                note=note,
                max_bytes=limit,
            )

    return _public(await run_in_threadpool(write))


@router.get(
    "/{site}/evidence",
    summary="Evidence files of a site / 存证文件列表",
    response_model=EvidenceList,
)
def list_site_evidence(
    site: str,
    store: StoreDep,
    scope: ScopeDep,
    target_kind: Annotated[str | None, Query(description="only this kind of target")] = None,
    target_ref: Annotated[str | None, Query(description="only this target")] = None,
) -> dict[str, Any]:
    with store.read() as connection:
        access = scope.access(connection, site, "", DATA_CLASS)
        items = evidence.list_evidence(connection, site, target_kind, target_ref)
    if access.grant is not None:
        with store.write() as connection:
            scope.log(connection, access, f"evidence list {site}", DATA_CLASS)
    return {"items": [_public(item) for item in items]}


@router.get(
    "/{site}/evidence/{evidence_id}",
    summary="Download an evidence file / 下载存证文件",
    response_class=Response,
)
def download_evidence(
    request: Request,
    site: str,
    evidence_id: IdPath,
    store: StoreDep,
    settings: SettingsDep,
    scope: ScopeDep,
) -> Response:
    with store.read() as connection:
        access = scope.access(connection, site, "", DATA_CLASS)
        item = evidence.get_evidence(connection, site, evidence_id)
    data = blobs_of(request, settings).get(item.sha256)
    if hashlib.sha256(data).hexdigest() != item.sha256:
        raise VerificationFailed(
            f"evidence {site}/{item.id} {item.filename!r}: the stored file no longer matches "
            f"its SHA-256 {item.sha256} / 存证文件已被修改，与其摘要不符"
        )
    if access.grant is not None:
        with store.write() as connection:
            scope.log(connection, access, f"evidence {site}/{item.id}", DATA_CLASS)
    return Response(
        data,
        media_type=item.media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(item.filename)}",
            "ETag": f'"{item.sha256}"',
            "X-Content-SHA256": item.sha256,
        },
    )
