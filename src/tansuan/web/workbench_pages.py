"""The verifier's workbench page (``/workbench``, 核查工作台) and its forms
(:mod:`tansuan.views.workbench`, the same calls as the API).

A verifier sees the sites of their grants and the months each opens (linked to the
emissions page, where every number opens its trace), raises requests, records and closes
findings, prepares the statement to sign and uploads its signature; the plant sees every
request and finding on its sites with its status, answers (a note, a correction — a
pending proposal — or a file) and responds; the grantor's administrator registers the
verifier's public key on a grant. Each form carries the CSRF token; a refused step shows
its bilingual message on the error page and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from starlette.responses import HTMLResponse, RedirectResponse, Response

from tansuan import clock
from tansuan.errors import InputError, NotFound, PermissionDenied
from tansuan.store import grants
from tansuan.store.schema.workbench import SEVERITIES
from tansuan.views import workbench
from tansuan.web.deps import IdPath, ledger_of
from tansuan.web.pages import _check_csrf, _scope, _who, render
from tansuan.web.routes.workbench import blobs_of, upload

router = APIRouter(include_in_schema=False)


def _back(site: str, anchor: str = "") -> Response:
    query = urlencode({"site": site}) if site else ""
    return RedirectResponse(f"/workbench?{query}{'#' + anchor if anchor else ''}",
                            status_code=303)  # fmt: skip


def _given_grants(request: Request, principal: Any) -> list[dict[str, Any]]:
    """The grants the caller's organisation gave (for its administrator's key form)."""
    if principal.role != "admin":
        return []
    with request.app.state.store.read() as conn:
        rows = grants.listing(conn, principal.org, principal.user_id)
    return [r for r in rows if r["direction"] == "given" and not r["revoked_at_us"]]


@router.get("/workbench", response_class=HTMLResponse)
def workbench_page(
    request: Request, site: str = "", draft_period: str = "", opinion: str = ""
) -> Response:
    principal = _who(request)
    scope = _scope(request, principal)
    state = request.app.state
    data = workbench.workbench(state.store, scope, site or None)
    draft, draft_error = None, None
    if draft_period and site:
        try:
            draft = workbench.draft(state.store, ledger_of(request.app), scope, site=site,
                                    period=draft_period, opinion=opinion,
                                    at=clock.now(dt.UTC))  # fmt: skip
        except (InputError, NotFound, PermissionDenied) as error:
            draft_error = error.message
    return render(request, "workbench.html", principal, data=data, site=site,
                  severities=SEVERITIES, draft=draft, draft_error=draft_error,
                  draft_period=draft_period, opinion=opinion,
                  given=_given_grants(request, principal),
                  plant_roles=workbench.PLANT_ROLES)  # fmt: skip


@router.post("/ui/workbench/requests")
def raise_request(
    request: Request, site: str = Form(...), period: str = Form(...), subject: str = Form(""),
    text: str = Form(""), csrf: str = Form(""),
) -> Response:  # fmt: skip
    _check_csrf(request, csrf)
    scope = _scope(request, _who(request))
    workbench.raise_request(request.app.state.store, ledger_of(request.app), scope, site=site,
                            period=period, subject=subject, text=text)  # fmt: skip
    return _back(site, "requests")


@router.post("/ui/workbench/requests/{request_id}/answer")
def answer_request(
    request_id: IdPath, request: Request, kind: str = Form(...), text: str = Form(""),
    proposal_id: str = Form(""), file: UploadFile | None = File(None), site: str = Form(""),
    csrf: str = Form(""),
) -> Response:  # fmt: skip
    _check_csrf(request, csrf)
    principal = _who(request)
    ledger = ledger_of(request.app)
    attach = None
    if kind == "attachment" and file is not None and file.filename:
        attach = upload(request, ledger, file, principal.username, text)
    proposal = None
    if proposal_id.strip():
        if not proposal_id.strip().isdigit():
            raise InputError(f"提议编号须为数字 / the proposal id must be a number, not "
                             f"{proposal_id!r}", field="proposal_id")  # fmt: skip
        proposal = int(proposal_id)
    workbench.answer_request(request.app.state.store, ledger, principal, request_id, kind=kind,
                             text=text, proposal_id=proposal, attach=attach)  # fmt: skip
    return _back(site, f"request-{request_id}")


@router.get("/ui/workbench/requests/{request_id}/evidence/{evidence_id}")
def request_file(request_id: IdPath, evidence_id: IdPath, request: Request) -> Response:
    scope = _scope(request, _who(request))
    item, data = workbench.request_file(request.app.state.store, scope, blobs_of(request),
                                        request_id, evidence_id)  # fmt: skip
    return Response(data, media_type=item.media_type,
                    headers={"X-Content-SHA256": item.sha256})  # fmt: skip


@router.post("/ui/workbench/{what}/{row_id}/close")
def close(
    what: str, row_id: IdPath, request: Request, text: str = Form(""), site: str = Form(""),
    csrf: str = Form(""),
) -> Response:  # fmt: skip
    _check_csrf(request, csrf)
    scope = _scope(request, _who(request))
    store, ledger = request.app.state.store, ledger_of(request.app)
    if what == "requests":
        workbench.close_request(store, ledger, scope, row_id, text)
    elif what == "findings":
        workbench.close_finding(store, ledger, scope, row_id, text)
    else:
        raise NotFound(f"no {what!r}")
    return _back(site, f"{what[:-1]}-{row_id}")


@router.post("/ui/workbench/findings")
def record_finding(
    request: Request, site: str = Form(...), period: str = Form(...), severity: str = Form(...),
    text: str = Form(""), csrf: str = Form(""),
) -> Response:  # fmt: skip
    _check_csrf(request, csrf)
    scope = _scope(request, _who(request))
    workbench.record_finding(request.app.state.store, ledger_of(request.app), scope, site=site,
                             period=period, severity=severity, text=text)  # fmt: skip
    return _back(site, "findings")


@router.post("/ui/workbench/findings/{finding_id}/respond")
def respond_finding(
    finding_id: IdPath, request: Request, text: str = Form(""), site: str = Form(""),
    csrf: str = Form(""),
) -> Response:  # fmt: skip
    _check_csrf(request, csrf)
    workbench.respond_finding(request.app.state.store, ledger_of(request.app), _who(request),
                              finding_id, text)  # fmt: skip
    return _back(site, f"finding-{finding_id}")


@router.post("/ui/workbench/signoff")
def sign_off(
    request: Request, site: str = Form(...), period: str = Form(...),
    statement: str = Form(...), signature: str = Form(""), csrf: str = Form(""),
) -> Response:  # fmt: skip
    _check_csrf(request, csrf)
    scope = _scope(request, _who(request))
    workbench.sign_off(request.app.state.store, ledger_of(request.app), scope, site=site,
                       period=period, statement=statement, signature=signature)  # fmt: skip
    return _back(site, "signoffs")


@router.post("/ui/workbench/grants/{grant_id}/key")
def register_key(
    grant_id: IdPath, request: Request, public_key: str = Form(""), csrf: str = Form("")
) -> Response:
    _check_csrf(request, csrf)
    workbench.register_key(request.app.state.store, ledger_of(request.app), _who(request),
                           grant_id, public_key)  # fmt: skip
    return _back("", "keys")
