"""The emissions page's filing panel (``/ui/filing``, loaded by HTMX) and its forms: file
and reopen months, accept and reject proposals (:mod:`tansuan.views.filing`, the same
calls as the API). Each form carries the CSRF token; a refused step shows its bilingual
message on the error page and changes nothing; a done step returns to the emissions page.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from tansuan.accounting.filing import APPROVERS, FILERS
from tansuan.errors import InputError, NotFound
from tansuan.views import filing
from tansuan.web.deps import IdPath, ledger_of
from tansuan.web.pages import _check_csrf, _who, render

router = APIRouter(include_in_schema=False)


def _back(site: str, period: str) -> Response:
    query = urlencode({"node": site, "period": period})
    return RedirectResponse(f"/emissions?{query}#filing", status_code=303)


def _month_or_blank(period: str) -> str:
    """The period to prefill the forms with: the page's month, if it shows one."""
    return period if len(period) == 7 else ""


@router.get("/ui/filing", response_class=HTMLResponse)
def filing_panel(request: Request, site: str, period: str = "") -> Response:
    """Filed months and pending proposals of ``site``; the buttons the caller's role allows.
    Another organisation's site (seen through a share grant) shows no panel."""
    principal = _who(request)
    try:
        data = filing.proposals(request.app.state.store, principal, site)
    except NotFound:
        data = None
    return render(
        request, "_filing.html", principal, data=data, period=_month_or_blank(period),
        can_file=principal.role in FILERS, can_decide=principal.role in APPROVERS,
        show=filing.tonnes_text,
    )  # fmt: skip


@router.post("/ui/filing/{action}")
def file_or_reopen(
    action: str,
    request: Request,
    site: str = Form(...),
    period: str = Form(...),
    reason: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    _check_csrf(request, csrf)
    principal = _who(request)
    store, ledger = request.app.state.store, ledger_of(request.app)
    if action == "file":
        filing.file(store, ledger, principal, site, period, reason)
    elif action == "reopen":
        filing.reopen(store, ledger, principal, site, period, reason)
    else:
        raise NotFound(f"no action {action!r}")
    return _back(site, period)


@router.post("/ui/proposals/{proposal_id}/{decision}")
def decide(
    proposal_id: IdPath,
    decision: str,
    request: Request,
    period: str = Form(""),
    reason: str = Form(""),
    csrf: str = Form(""),
) -> Response:
    _check_csrf(request, csrf)
    principal = _who(request)
    store, ledger = request.app.state.store, ledger_of(request.app)
    if decision == "accept":
        done = filing.accept(store, ledger, principal, proposal_id, reason)
    elif decision == "reject":
        done = filing.reject(store, ledger, principal, proposal_id, reason)
    else:
        raise InputError(f"decision must be accept or reject, not {decision!r}", field="decision")
    return _back(str(done["site"]), period or str(done["period"]))
