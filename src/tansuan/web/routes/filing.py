"""``/api/v1/filing`` and ``/api/v1/proposals``: the four-eyes workflow
(:mod:`tansuan.views.filing`). A carbon accountant files months; an approver other than
the user who filed or proposed reopens months and accepts or rejects proposals (admin may
act as either). Each step is a ledger leaf; a refused step changes nothing (403/400)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from tansuan.errors import NotFound
from tansuan.views import filing
from tansuan.web.deps import IdPath, LedgerDep, PrincipalDep, StoreDep
from tansuan.web.schemas import FiledOut, ProposalOut, ProposalsOut

router = APIRouter(prefix="/api/v1", tags=["filing / 报送与审核"])


class FilingIn(BaseModel):
    """Months of a site to file or reopen."""

    site: str
    period: str = Field(description="2025, 2025-03, 2025-Q1 or a..b")
    reason: str = Field(default="", description="required to reopen")


class DecisionIn(BaseModel):
    reason: str = Field(default="", description="a note to accept; required to reject")


def _ledger(ledger: Any) -> Any:
    if ledger is None:
        raise NotFound("filing needs the ledger, which is not running in this server")
    return ledger


@router.get("/proposals", summary="Pending proposals and filed months / 待决定的重算提议",
            response_model=ProposalsOut)  # fmt: skip
def list_proposals(
    store: StoreDep,
    principal: PrincipalDep,
    site: Annotated[str, Query(description="site id")],
    period: Annotated[str | None, Query(description="only the months of this period")] = None,
) -> dict[str, Any]:
    return filing.proposals(store, principal, site, period)


@router.post("/filing/file", summary="File months (carbon accountant) / 报送月份",
             response_model=FiledOut)  # fmt: skip
def file_months(
    body: FilingIn, store: StoreDep, principal: PrincipalDep, ledger: LedgerDep
) -> dict[str, Any]:
    done = filing.file(store, _ledger(ledger), principal, body.site, body.period, body.reason)
    return {"site": body.site, "action": "file", "periods": done}


@router.post("/filing/reopen", summary="Reopen filed months (approver) / 重新开放",
             response_model=FiledOut)  # fmt: skip
def reopen_months(
    body: FilingIn, store: StoreDep, principal: PrincipalDep, ledger: LedgerDep
) -> dict[str, Any]:
    months = filing.reopen(store, _ledger(ledger), principal, body.site, body.period,
                           body.reason)  # fmt: skip
    return {"site": body.site, "action": "reopen", "periods": [{"period": m} for m in months]}


@router.post("/proposals/{proposal_id}/accept", summary="Accept a proposal (approver) / 接受",
             response_model=ProposalOut)  # fmt: skip
def accept_proposal(
    proposal_id: IdPath, store: StoreDep, principal: PrincipalDep, ledger: LedgerDep,
    body: DecisionIn | None = None,
) -> dict[str, Any]:  # fmt: skip
    note = body.reason if body is not None else ""
    return filing.accept(store, _ledger(ledger), principal, proposal_id, note)


@router.post("/proposals/{proposal_id}/reject", summary="Reject a proposal (approver) / 驳回",
             response_model=ProposalOut)  # fmt: skip
def reject_proposal(
    proposal_id: IdPath, body: DecisionIn, store: StoreDep, principal: PrincipalDep,
    ledger: LedgerDep,
) -> dict[str, Any]:  # fmt: skip
    return filing.reject(store, _ledger(ledger), principal, proposal_id, body.reason)
