"""``/api/v1/workbench``: the verifier's workbench (:mod:`tansuan.views.workbench`).

A verifier (under a share grant) raises requests and records findings on a site and
period, closes them and signs a period off; the plant answers requests and responds to
findings. The grantor's administrator registers the verifier's Ed25519 public key on the
grant (``PUT /api/v1/grants/{id}/verifier-key``). Each step is a ledger leaf; a refused
step changes nothing (400 / 403 / 404 / 409)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from pydantic import BaseModel, Field
from starlette.responses import Response

from tansuan import clock
from tansuan.errors import NotFound
from tansuan.store import evidence
from tansuan.views import workbench
from tansuan.web.deps import MAX_ID, IdPath, LedgerDep, ScopeDep, StoreDep
from tansuan.web.schemas import Out

router = APIRouter(tags=["verifier's workbench / 核查工作台"])


class WorkbenchOut(Out):
    """Per site the caller sees: the side they are on, the months open to them, the
    requests and findings (with replies) and the sign-offs."""

    sites: list[dict[str, Any]]
    role: str


class RecordOut(Out):
    """A request or finding as stored (``status``: open / answered|responded / closed)."""

    id: int
    site: str
    period: str
    status: str


class ReplyOut(Out):
    """An answer to a request or a response to a finding."""

    id: int
    reply: int
    status: str


class KeyOut(Out):
    grant_id: int
    public_key: str


class DraftOut(Out):
    """The statement to sign (canonical JSON) and the major findings still open."""

    statement: str
    grant_id: int
    major_open: list[int]


class SignoffOut(Out):
    """The stored sign-off: the ``signoff`` leaf's payload and its leaf index."""

    id: int
    site: str
    period: str
    verifier: str
    grant_id: int
    public_key: str
    statement: str
    signature: str
    leaf_index: int


class RequestIn(BaseModel):
    site: str
    period: str = Field(description="the month, YYYY-MM")
    subject: str = Field(default="", description="a source id or series entry; empty = month")
    text: str = Field(description='what is asked for, e.g. "the lab report for coal, May"')


class AnswerIn(BaseModel):
    kind: str = Field(description="note or correction (attachments: the workbench page)")
    text: str = ""
    proposal_id: int | None = Field(
        default=None, ge=0, le=MAX_ID, description="a correction's proposal"
    )


class NoteIn(BaseModel):
    text: str = ""


class FindingIn(BaseModel):
    site: str
    period: str = Field(description="YYYY or YYYY-MM")
    severity: str = Field(description="major, minor or observation")
    text: str


class KeyIn(BaseModel):
    public_key: str = Field(description="Ed25519 public key, raw 32 bytes as 64 hex digits")


class SignoffIn(BaseModel):
    site: str
    period: str = Field(description="YYYY or YYYY-MM")
    statement: str = Field(description="the exact canonical JSON signed")
    signature: str = Field(description="Ed25519 signature of the statement's UTF-8, hex")


def _ledger(ledger: Any) -> Any:
    if ledger is None:
        raise NotFound("the workbench needs the ledger, which is not running in this server")
    return ledger


P = "/api/v1/workbench"


def blobs_of(request: Request) -> evidence.BlobStore:
    """Where evidence bytes live: the app's blob store when one is set (e.g. S3), else
    content-addressed files under the data dir."""
    blobs = getattr(request.app.state, "evidence_blobs", None)
    if blobs is not None:
        return blobs  # type: ignore[no-any-return]
    return evidence.FileBlobStore.for_data_dir(request.app.state.settings.data_dir)


def upload(
    request: Request, ledger: Any, file: UploadFile, by: str, note: str = ""
) -> workbench.Attach:
    """The attach step of an answer with an uploaded file (checked by the evidence store)."""
    return workbench.attacher(
        ledger, blobs_of(request), filename=file.filename or "", data=file.file.read(),
        media_type=file.content_type or "", by=by, note=note,
        max_bytes=request.app.state.settings.evidence_max_bytes,
    )  # fmt: skip


@router.get(P, summary="The workbench / 核查工作台", response_model=WorkbenchOut)
def overview(
    store: StoreDep, scope: ScopeDep,
    site: Annotated[str | None, Query(description="only this site")] = None,
) -> dict[str, Any]:  # fmt: skip
    return workbench.workbench(store, scope, site)


@router.post(P + "/requests", status_code=201, summary="Raise a request (verifier) / 提出请求",
             response_model=RecordOut)  # fmt: skip
def raise_request(
    body: RequestIn, store: StoreDep, scope: ScopeDep, ledger: LedgerDep
) -> dict[str, Any]:
    return workbench.raise_request(store, _ledger(ledger), scope, site=body.site,
                                   period=body.period, subject=body.subject,
                                   text=body.text)  # fmt: skip


@router.get(P + "/requests/{request_id}", summary="One request / 请求", response_model=RecordOut)
def get_request(request_id: IdPath, store: StoreDep, scope: ScopeDep) -> dict[str, Any]:
    return workbench.one(store, scope, "request", request_id)


@router.post(P + "/requests/{request_id}/answer", summary="Answer a request (plant) / 答复",
             response_model=ReplyOut)  # fmt: skip
def answer_request(
    request_id: IdPath, body: AnswerIn, store: StoreDep, scope: ScopeDep, ledger: LedgerDep
) -> dict[str, Any]:
    return workbench.answer_request(store, _ledger(ledger), scope.principal, request_id,
                                    kind=body.kind, text=body.text,
                                    proposal_id=body.proposal_id)  # fmt: skip


@router.post(P + "/requests/{request_id}/attachment", response_model=ReplyOut,
             summary="Answer a request with a file (plant) / 以附件答复")  # fmt: skip
def answer_with_file(
    request_id: IdPath, request: Request, store: StoreDep, scope: ScopeDep, ledger: LedgerDep,
    file: UploadFile = File(description="PDF, JPEG, PNG or XLSX"), text: str = Form(""),
) -> dict[str, Any]:  # fmt: skip
    """The file becomes evidence attached to ``request/<id>`` (an ``evidence`` leaf) and
    the answer a ``verifier_request`` leaf, in one transaction."""
    attach = upload(request, _ledger(ledger), file, scope.principal.username, text)
    return workbench.answer_request(store, ledger, scope.principal, request_id,
                                    kind="attachment", text=text, attach=attach)  # fmt: skip


@router.get(P + "/requests/{request_id}/evidence/{evidence_id}", response_class=Response,
            summary="An attached file / 附件")  # fmt: skip
def request_file(
    request_id: IdPath, evidence_id: IdPath, request: Request, store: StoreDep, scope: ScopeDep
) -> Response:
    item, data = workbench.request_file(store, scope, blobs_of(request), request_id,
                                        evidence_id)  # fmt: skip
    return Response(data, media_type=item.media_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{_quote(item.filename)}",
        "X-Content-SHA256": item.sha256})  # fmt: skip


def _quote(name: str) -> str:
    return quote(name, safe="")


@router.post(P + "/requests/{request_id}/close", summary="Close a request (verifier) / 关闭",
             response_model=RecordOut)  # fmt: skip
def close_request(
    request_id: IdPath, store: StoreDep, scope: ScopeDep, ledger: LedgerDep,
    body: NoteIn | None = None,
) -> dict[str, Any]:  # fmt: skip
    note = body.text if body is not None else ""
    return workbench.close_request(store, _ledger(ledger), scope, request_id, note)


@router.post(P + "/findings", status_code=201, summary="Record a finding (verifier) / 不符合项",
             response_model=RecordOut)  # fmt: skip
def record_finding(
    body: FindingIn, store: StoreDep, scope: ScopeDep, ledger: LedgerDep
) -> dict[str, Any]:
    return workbench.record_finding(store, _ledger(ledger), scope, site=body.site,
                                    period=body.period, severity=body.severity,
                                    text=body.text)  # fmt: skip


@router.get(P + "/findings/{finding_id}", summary="One finding / 不符合项",
            response_model=RecordOut)  # fmt: skip
def get_finding(finding_id: IdPath, store: StoreDep, scope: ScopeDep) -> dict[str, Any]:
    return workbench.one(store, scope, "finding", finding_id)


@router.post(P + "/findings/{finding_id}/respond", summary="Respond to a finding (plant) / 回复",
             response_model=ReplyOut)  # fmt: skip
def respond_finding(
    finding_id: IdPath, body: NoteIn, store: StoreDep, scope: ScopeDep, ledger: LedgerDep
) -> dict[str, Any]:
    return workbench.respond_finding(store, _ledger(ledger), scope.principal, finding_id,
                                     body.text)  # fmt: skip


@router.post(P + "/findings/{finding_id}/close", summary="Close a finding (verifier) / 关闭",
             response_model=RecordOut)  # fmt: skip
def close_finding(
    finding_id: IdPath, store: StoreDep, scope: ScopeDep, ledger: LedgerDep,
    body: NoteIn | None = None,
) -> dict[str, Any]:  # fmt: skip
    note = body.text if body is not None else ""
    return workbench.close_finding(store, _ledger(ledger), scope, finding_id, note)


@router.put("/api/v1/grants/{grant_id}/verifier-key", response_model=KeyOut,
            summary="Register the verifier key (grantor admin) / 登记核查员公钥")  # fmt: skip
def register_key(
    grant_id: IdPath, body: KeyIn, store: StoreDep, scope: ScopeDep, ledger: LedgerDep
) -> dict[str, Any]:
    return workbench.register_key(store, _ledger(ledger), scope.principal, grant_id,
                                  body.public_key)  # fmt: skip


@router.get(P + "/signoff/draft", summary="The statement to sign / 待签署声明",
            response_model=DraftOut)  # fmt: skip
def draft(
    store: StoreDep, scope: ScopeDep, ledger: LedgerDep,
    site: Annotated[str, Query()], period: Annotated[str, Query(description="YYYY or YYYY-MM")],
    opinion: Annotated[str, Query(description="the verifier's opinion")],
) -> dict[str, Any]:  # fmt: skip
    """The ledger's current size and root and the open findings, as the canonical JSON
    statement to sign with ``tansuan signoff sign --key FILE``; ``at`` is now (the
    platform's calendar clock)."""
    return workbench.draft(store, _ledger(ledger), scope, site=site, period=period,
                           opinion=opinion, at=clock.now(dt.UTC))  # fmt: skip


@router.post(P + "/signoffs", status_code=201, summary="Sign a period off (verifier) / 签署",
             response_model=SignoffOut)  # fmt: skip
def sign_off(
    body: SignoffIn, store: StoreDep, scope: ScopeDep, ledger: LedgerDep
) -> dict[str, Any]:
    """Checked before it is stored: the signature under the key registered on the grant
    (409 otherwise), the tree size and root against the ledger, no open major finding."""
    return workbench.sign_off(store, _ledger(ledger), scope, site=body.site, period=body.period,
                              statement=body.statement, signature=body.signature)  # fmt: skip
