"""``/api/v1/me``, ``/api/v1/users`` and ``/api/v1/tokens`` (users and API tokens)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from tansuan.errors import NotFound
from tansuan.store import users
from tansuan.store.schema import ROLES, SCOPES
from tansuan.store.timeutil import to_us
from tansuan.web.deps import IdPath, PrincipalDep, ScopeDep, StoreDep
from tansuan.web.pagination import Limit, Offset, page
from tansuan.web.schemas import Created, MeOut, Page, Revoked, TokenCreated

router = APIRouter(prefix="/api/v1", tags=["users and tokens / 用户与令牌"])


class UserCreate(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=users.MIN_PASSWORD)
    role: str = Field(description=", ".join(ROLES))
    display_name: str = ""


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    scopes: list[str] = Field(description=", ".join(SCOPES))
    expires_at: dt.datetime | None = None
    username: str | None = Field(default=None, description="owner (admins only); default you")


@router.get("/me", summary="Who you are / 当前用户", response_model=MeOut)
def me(principal: PrincipalDep) -> dict[str, Any]:
    return {
        "user_id": principal.user_id,
        "username": principal.username,
        "org": principal.org,
        "role": principal.role,
        "scopes": sorted(principal.scopes),
        "token_id": principal.token_id,
    }


@router.get("/users", summary="Users of your organisation / 用户", response_model=Page)
def list_users(
    store: StoreDep, scope: ScopeDep, limit: Limit = 100, offset: Offset = 0
) -> dict[str, Any]:
    scope.require_admin()
    with store.read() as conn:
        return page(users.users(conn, scope.org), limit, offset)


@router.post("/users", status_code=201, summary="Add a user / 添加用户", response_model=Created)
def add_user(body: UserCreate, store: StoreDep, scope: ScopeDep) -> dict[str, Any]:
    scope.require_admin()
    with store.write() as conn:
        user_id = users.add_user(
            conn,
            org=scope.org,
            username=body.username,
            password=body.password,
            role=body.role,
            display_name=body.display_name,
        )
    return {"id": user_id}


@router.get("/tokens", summary="API tokens of your organisation / 令牌", response_model=Page)
def list_tokens(
    store: StoreDep, scope: ScopeDep, limit: Limit = 100, offset: Offset = 0
) -> dict[str, Any]:
    scope.require_admin()
    with store.read() as conn:
        return page(users.tokens(conn, scope.org), limit, offset)


@router.post("/tokens", status_code=201, summary="Create an API token (shown once) / 创建令牌",
             response_model=TokenCreated)  # fmt: skip
def create_token(body: TokenCreate, store: StoreDep, scope: ScopeDep) -> dict[str, Any]:
    """The token is in this answer only; the store keeps its SHA-256."""
    scope.require_admin()
    with store.write() as conn:
        owner = scope.principal.user_id
        if body.username:
            owner = users.user_id_by_name(conn, body.username)
            if users.user(conn, owner).org != scope.org:
                raise NotFound(f"no user {body.username!r}")
        expires = None if body.expires_at is None else to_us(body.expires_at, field="expires_at")
        token_id, token = users.create_token(
            conn, owner, body.name, body.scopes, expires_at_us=expires
        )
    return {"id": token_id, "token": token}


@router.delete("/tokens/{token_id}", summary="Revoke a token / 撤销令牌", response_model=Revoked)
def revoke_token(token_id: IdPath, store: StoreDep, scope: ScopeDep) -> dict[str, Any]:
    scope.require_admin()
    with store.write() as conn:
        users.revoke_token(conn, scope.org, token_id)
    return {"id": token_id, "revoked": True}
