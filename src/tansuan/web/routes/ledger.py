"""``/api/v1/ledger``: signed tree head, inclusion and consistency proofs (RFC 6962 forms).

The signed tree head and consistency proofs are hashes over the whole log and reveal
no tenant's data, as in Certificate Transparency; any authenticated caller may fetch
them. An inclusion proof names a leaf: it is given to the leaf's own organisation, or
under a share grant of class ``proofs`` from it (logged like every grant read).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import Connection, select

from tansuan.errors import NotFound, PermissionDenied
from tansuan.ledger import api
from tansuan.store import schema
from tansuan.store.scoped import Access
from tansuan.web.deps import MAX_ID, LedgerDep, PrincipalDep, ScopeDep, StoreDep
from tansuan.web.schemas import ConsistencyOut, InclusionOut, SthOut, TreeSize

router = APIRouter(prefix="/api/v1/ledger", tags=["ledger / 账本"])


def _ledger(ledger: Any) -> Any:
    if ledger is None:
        raise NotFound("the ledger is not running in this server")
    return ledger


def _readable(principal: Any) -> None:
    if not principal.can("read"):
        raise PermissionDenied("需要读取权限 / needs the 'read' scope")


@router.get("/sth", summary="Latest signed tree head / 最新签名树头", response_model=SthOut)
def sth(store: StoreDep, principal: PrincipalDep) -> dict[str, Any]:
    _readable(principal)
    with store.read() as conn:
        return api.sth_json(conn)


@router.get("/size", summary="Current tree size / 账本大小", response_model=TreeSize)
def size(store: StoreDep, ledger: LedgerDep, principal: PrincipalDep) -> dict[str, Any]:
    _readable(principal)
    with store.read() as conn:
        return {"tree_size": _ledger(ledger).tree_size(conn)}


def leaf_orgs(conn: Connection, kind: str, ref: str, payload: dict[str, Any]) -> set[str]:
    """Organisations whose data a leaf covers."""
    e = schema.entity
    if kind == "ingest_batch":
        sites: set[int] = set()
        for table in (schema.reading, schema.reading_staging, schema.reading_version):
            sites.update(
                conn.execute(
                    select(table.c.site_id).where(table.c.batch_id == int(ref)).distinct()
                ).scalars()
            )
        if not sites:
            return set()
        return set(conn.execute(select(e.c.org_key).where(e.c.id.in_(sorted(sites)))).scalars())
    if "grantor_org" in payload:
        return {str(payload["grantor_org"])}
    site = payload.get("site") or payload.get("site_id")
    if site:
        return set(
            conn.execute(
                select(e.c.org_key).where(e.c.kind == "site", e.c.key == str(site))
            ).scalars()
        )
    return set()


@router.get("/proof/inclusion", summary="Inclusion proof of a leaf / 包含性证明",
            response_model=InclusionOut)  # fmt: skip
def inclusion(
    store: StoreDep,
    ledger: LedgerDep,
    scope: ScopeDep,
    leaf: Annotated[int, Query(ge=0, le=MAX_ID, description="leaf index")],
    tree_size: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="default: latest STH covering it")
    ] = None,
) -> dict[str, Any]:
    log = _ledger(ledger)
    with store.read() as conn:
        entry = log.leaf(conn, leaf)
        orgs = leaf_orgs(conn, entry.kind, entry.ref, json.loads(entry.payload))
        access: Access | None = Access(own=True) if scope.org in orgs else None
        if access is None:
            grant = next(
                (g for g in scope.grants if g.grantor_org in orgs and "proofs" in g.classes), None
            )
            if grant is None:
                raise NotFound(f"no leaf {leaf}")
            scope.require("read")
            access = Access(own=False, grant=grant)
        proof = api.inclusion_proof_json(log, conn, leaf, tree_size)
    if access.grant is not None:
        with store.write() as conn:
            scope.log(conn, access, f"inclusion proof leaf={leaf}", "proofs")
    return proof


@router.get("/proof/consistency", summary="Consistency proof / 一致性证明",
            response_model=ConsistencyOut)  # fmt: skip
def consistency(
    store: StoreDep,
    ledger: LedgerDep,
    principal: PrincipalDep,
    first: Annotated[int, Query(ge=1, le=MAX_ID)],
    second: Annotated[int, Query(ge=1, le=MAX_ID)],
) -> dict[str, Any]:
    _readable(principal)
    with store.read() as conn:
        return api.consistency_proof_json(_ledger(ledger), conn, first, second)
