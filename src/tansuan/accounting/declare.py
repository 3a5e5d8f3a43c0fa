"""Declarations: a source that did not run, said so with a reason and its evidence.

Missing is not zero. A month of a source with no activity data is ``missing`` unless every
day of it on which the source is active is covered by a declared shutdown; then it is a
true zero, and the result's trace names the declaration(s). A declaration is validated
(the site and source exist, ``from`` ≤ ``to``, a reason is given, the evidence file is
readable), stored (:mod:`tansuan.store.declarations`) and appended to the ledger as a
``declaration`` leaf carrying the evidence file's SHA-256, in one transaction; the
source-months it covers that already have a result are marked stale, so the next
``tansuan account`` (or ``--stale``) turns them from missing into declared zeros.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from tansuan.accounting import results
from tansuan.errors import InputError
from tansuan.site.model import SiteModel
from tansuan.store import declarations
from tansuan.store.database import Store
from tansuan.store.declarations import Declaration

#: Kinds of declaration (one so far).
KINDS = frozenset({"shutdown"})


def evidence_digest(path: Path) -> str:
    """SHA-256 (hex) of an evidence file; an unreadable file is an :class:`InputError`."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"cannot read evidence file {path}: {exc.strerror} / 无法读取证明文件",
            field="evidence",
        ) from None
    return hashlib.sha256(data).hexdigest()


def declare_shutdown(
    store: Store,
    model: SiteModel,
    *,
    site: str,
    source: str,
    date_from: dt.date,
    date_to: dt.date,
    reason: str,
    evidence: Path | None,
    by: str,
    ledger: Any | None = None,
) -> Declaration:
    """Declare that ``source`` did not run from ``date_from`` to ``date_to`` (local days,
    both inclusive); return the stored declaration (with its ledger leaf when ``ledger``).

    Nothing is stored when any check fails.
    """
    site_model = model.site(site)
    if source not in {s.id for s in site_model.sources}:
        raise InputError(
            f"no source {source!r} in site {site!r} / 站点中无此排放源", field="source"
        )
    if date_to < date_from:
        raise InputError(
            f"--to {date_to} is before --from {date_from} / 结束日期早于开始日期", field="to"
        )
    if not reason.strip():
        raise InputError("a declaration needs a reason / 声明须说明原因", field="reason")
    sha = evidence_digest(evidence) if evidence is not None else None
    declared_at = dt.datetime.now(dt.UTC)  # when it was declared (an event, not a calendar)
    with store.write() as conn:
        ident = declarations.add(
            conn,
            site_id=site,
            source_id=source,
            kind="shutdown",
            date_from=date_from,
            date_to=date_to,
            reason=reason.strip(),
            evidence_name=None if evidence is None else evidence.name,
            evidence_sha256=sha,
            declared_by=by,
            declared_at=declared_at,
        )
        if ledger is not None:
            leaf = ledger.append(
                conn,
                "declaration",
                f"declaration/{site}/{source}/{ident}",
                {
                    "id": ident,
                    "site": site,
                    "source": source,
                    "kind": "shutdown",
                    "from": date_from.isoformat(),
                    "to": date_to.isoformat(),
                    "reason": reason.strip(),
                    "evidence": None if evidence is None else evidence.name,
                    "evidence_sha256": sha,
                    "by": by,
                    "at": declared_at.isoformat(),
                },
            )
            declarations.set_leaf(conn, ident, leaf)
        months = _months(date_from, date_to)
        computed = results.computed_pairs(conn, site, months)
        marks = {(source, m) for m in months} & computed
        results.mark_stale(conn, site, marks, f"declaration {ident}")
        (stored,) = [d for d in declarations.listed(conn, site, source) if d.id == ident]
    return stored


def listed(store: Store, site: str | None = None) -> list[Declaration]:
    """Every declaration (of one site), oldest first."""
    with store.read() as conn:
        return declarations.listed(conn, site)


def _months(start: dt.date, end: dt.date) -> list[str]:
    out: list[str] = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out
