"""Declared shutdowns: the one way a month without data becomes a true zero.

A row of ``declaration`` (:mod:`tansuan.store.schema.results`, migration 0006) says a
source did not operate from one local day to another (both inclusive), why, and — when an
evidence file was given — its name and SHA-256. Rows are never changed or deleted; the
ledger leaf (``declaration``) that records each one makes a later edit detectable.
:mod:`tansuan.accounting.declare` validates and logs them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from tansuan.store.schema import declaration


@dataclass(frozen=True)
class Declaration:
    """One declared shutdown of a source, days ``date_from``..``date_to`` inclusive."""

    id: int
    site_id: str
    source_id: str
    kind: str
    date_from: dt.date
    date_to: dt.date
    reason: str
    evidence_name: str | None
    evidence_sha256: str | None
    declared_by: str
    declared_at: dt.datetime
    leaf_index: int | None

    def covers(self, day: dt.date) -> bool:
        return self.date_from <= day <= self.date_to


def add(
    conn: sa.Connection,
    *,
    site_id: str,
    source_id: str,
    kind: str,
    date_from: dt.date,
    date_to: dt.date,
    reason: str,
    evidence_name: str | None,
    evidence_sha256: str | None,
    declared_by: str,
    declared_at: dt.datetime,
) -> int:
    """Insert one declaration; return its id."""
    return int(
        conn.execute(
            declaration.insert()
            .values(
                site_id=site_id,
                source_id=source_id,
                kind=kind,
                date_from=date_from.isoformat(),
                date_to=date_to.isoformat(),
                reason=reason,
                evidence_name=evidence_name,
                evidence_sha256=evidence_sha256,
                declared_by=declared_by,
                declared_at=declared_at,
            )
            .returning(declaration.c.id)
        ).scalar_one()
    )


def set_leaf(conn: sa.Connection, declaration_id: int, leaf_index: int) -> None:
    """Remember the ledger leaf that records a declaration."""
    conn.execute(
        declaration.update().where(declaration.c.id == declaration_id).values(leaf_index=leaf_index)
    )


def listed(
    conn: sa.Connection, site_id: str | None = None, source_id: str | None = None
) -> list[Declaration]:
    """Declarations, oldest first, optionally of one site (and source)."""
    query = sa.select(declaration).order_by(declaration.c.id)
    if site_id is not None:
        query = query.where(declaration.c.site_id == site_id)
    if source_id is not None:
        query = query.where(declaration.c.source_id == source_id)
    return [
        Declaration(
            id=int(r.id),
            site_id=r.site_id,
            source_id=r.source_id,
            kind=r.kind,
            date_from=dt.date.fromisoformat(r.date_from),
            date_to=dt.date.fromisoformat(r.date_to),
            reason=r.reason,
            evidence_name=r.evidence_name,
            evidence_sha256=r.evidence_sha256,
            declared_by=r.declared_by,
            declared_at=r.declared_at,
            leaf_index=None if r.leaf_index is None else int(r.leaf_index),
        )
        for r in conn.execute(query)
    ]
