"""``/api/v1/grants``: share grants given and received, their audit log; revoke at once."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from tansuan.errors import NotFound
from tansuan.store import grants
from tansuan.store.schema import DATA_CLASSES
from tansuan.store.timeutil import to_us
from tansuan.web.deps import IdPath, LedgerDep, ScopeDep, StoreDep
from tansuan.web.pagination import Limit, Offset, page
from tansuan.web.schemas import Created, GrantReads, Page, Revoked

router = APIRouter(prefix="/api/v1/grants", tags=["share grants / 数据授权"])


class GrantCreate(BaseModel):
    """A grant of a subtree of one of your sites to an organisation or one user."""

    site: str
    node: str = Field(default="", description="area or device id; empty = the whole site")
    classes: list[str] = Field(description=f"some of {', '.join(DATA_CLASSES)}")
    window_from: dt.datetime = Field(description="start of the data window (aware)")
    window_to: dt.datetime = Field(description="end of the data window, exclusive (aware)")
    expires_at: dt.datetime = Field(description="the grant ends at this instant (aware)")
    grantee_org: str | None = None
    grantee_user: str | None = None
    note: str = ""


def _ledger(ledger: Any) -> Any:
    if ledger is None:
        raise NotFound("grants need the ledger, which is not running in this server")
    return ledger


@router.get("", summary="Grants given and received / 授权列表", response_model=Page)
def list_grants(
    store: StoreDep, scope: ScopeDep, limit: Limit = 100, offset: Offset = 0
) -> dict[str, Any]:
    scope.require("read")
    with store.read() as conn:
        return page(grants.listing(conn, scope.org, scope.principal.user_id), limit, offset)


@router.post("", status_code=201, summary="Grant access / 创建授权", response_model=Created)
def create_grant(
    body: GrantCreate, store: StoreDep, scope: ScopeDep, ledger: LedgerDep
) -> dict[str, Any]:
    """Administrators only; appended to the ledger (kind ``grant``)."""
    scope.require_admin()
    with store.write() as conn:
        grant_id = grants.create(
            conn,
            _ledger(ledger),
            grantor_org=scope.org,
            created_by=scope.principal.user_id,
            site=body.site,
            node=body.node,
            classes=body.classes,
            window_from_us=to_us(body.window_from, field="window_from"),
            window_to_us=to_us(body.window_to, field="window_to"),
            expires_at_us=to_us(body.expires_at, field="expires_at"),
            grantee_org=body.grantee_org,
            grantee_user=body.grantee_user,
            note=body.note,
        )
    return {"id": grant_id}


@router.delete("/{grant_id}", summary="Revoke a grant at once / 撤销授权", response_model=Revoked)
def revoke_grant(
    grant_id: IdPath, store: StoreDep, scope: ScopeDep, ledger: LedgerDep
) -> dict[str, Any]:
    scope.require_admin()
    with store.write() as conn:
        grants.revoke(conn, _ledger(ledger), scope.org, grant_id, scope.principal.user_id)
    return {"id": grant_id, "revoked": True}


@router.get("/{grant_id}/reads", summary="Audit log of reads under a grant / 授权访问日志",
            response_model=GrantReads)  # fmt: skip
def grant_reads(
    grant_id: IdPath, store: StoreDep, scope: ScopeDep, limit: Limit = 100, offset: Offset = 0
) -> dict[str, Any]:
    """Only the grantor organisation's administrators see who read what."""
    scope.require_admin()
    with store.read() as conn:
        if not any(
            g["id"] == grant_id and g["direction"] == "given"
            for g in grants.listing(conn, scope.org, scope.principal.user_id)
        ):
            raise NotFound(f"no grant {grant_id}")
        rows = grants.reads(conn, scope.org, grant_id=grant_id, limit=limit + 1, offset=offset)
    following = offset + limit if len(rows) > limit else None
    return {"items": rows[:limit], "limit": limit, "offset": offset, "next_offset": following}
