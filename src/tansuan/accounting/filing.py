"""Filing months and deciding on proposals: the four-eyes workflow over :mod:`.results`.

* A **carbon accountant** (or an admin) *files* months of a site: their current result
  versions become the filed figures, and a later recalculation whose inputs changed is
  stored as a *proposal* instead of replacing them (:func:`results.save`).
* An **approver** (or an admin) who is *not* the user who filed or proposed decides:
  :func:`accept` makes a proposal the current version, :func:`reject` sets it aside with a
  reason; :func:`reopen` un-files a month (with a reason) so that recalculations replace
  its figures again.
* Every step appends one ledger leaf — kind ``filing`` (file, reopen) or ``proposal``
  (propose, accept, reject) — in the same transaction as the change it records.

A proposal computed without a named user (``computed_by`` unknown: an automatic
recalculation) may be decided by any approver. Errors are bilingual (zh-CN / en); a
refused step changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa

from tansuan.accounting import results
from tansuan.accounting.problems import PROBLEM_STATES
from tansuan.domain.scope import in_total
from tansuan.errors import InputError, NotFound, PermissionDenied
from tansuan.store.schema import period_locks, result_lines, result_sets
from tansuan.store.users import Principal

#: Roles that may file months and propose recalculations.
FILERS = ("carbon_accountant", "admin")
#: Roles that may accept or reject proposals and reopen filed months.
APPROVERS = ("approver", "admin")


class LedgerLike(Protocol):
    def append(
        self, connection: sa.Connection, kind: str, ref: str, payload: dict[str, Any]
    ) -> int: ...


@dataclass(frozen=True)
class Proposal:
    """A pending recalculation of a filed month, beside the filed (current) version."""

    set_id: int
    site_id: str
    source_id: str
    period: str
    version: int
    reason: str  #: which inputs changed
    computed_by: str | None
    computed_at: dt.datetime
    co2e_g: int | None  #: None: no figure (a failed or missing month), never 0
    current_version: int | None
    current_co2e_g: int | None

    @property
    def difference_g(self) -> int | None:
        if self.co2e_g is None or self.current_co2e_g is None:
            return None
        return self.co2e_g - self.current_co2e_g

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.set_id,
            "site": self.site_id,
            "source": self.source_id,
            "period": self.period,
            "version": self.version,
            "reason": self.reason,
            "computed_by": self.computed_by,
            "computed_at": self.computed_at.isoformat(),
            "co2e_g": self.co2e_g,
            "current_version": self.current_version,
            "current_co2e_g": self.current_co2e_g,
            "difference_g": self.difference_g,
        }


def _now(at: dt.datetime | None) -> dt.datetime:
    return at if at is not None else dt.datetime.now(dt.UTC)


def _require(by: Principal, roles: Sequence[str], action_zh: str, action_en: str) -> None:
    if by.role not in roles:
        raise PermissionDenied(
            f"{by.username} 的角色 {by.role} 不能{action_zh}（需要 {' / '.join(roles)}）/ "
            f"{by.username} ({by.role}) may not {action_en}: needs role {' or '.join(roles)}"
        )


def _reason(text: str, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InputError(f"请说明理由 / {what} needs a reason (--reason)", field="reason")
    return text


def _co2e(conn: sa.Connection, set_ids: Iterable[int]) -> dict[int, int]:
    """co2e [g] added into totals (market-based Scope 2 left out) per set with lines."""
    ids = sorted(set(set_ids))
    out: dict[int, int] = {}
    if not ids:
        return out
    rows = conn.execute(
        sa.select(result_lines.c.set_id, result_lines.c.scope, result_lines.c.co2e_g).where(
            result_lines.c.set_id.in_(ids)
        )
    )
    for set_id, scope, co2e_g in rows:
        out.setdefault(int(set_id), 0)
        if in_total(scope):
            out[int(set_id)] += int(co2e_g)
    return out


def _figure(row: Any, co2e: dict[int, int]) -> int | None:
    """A set's co2e, or None when it has no figure (failed/missing state, or no lines)."""
    state = row._mapping.get("state")
    if state is not None and state != "computed":
        return None
    return co2e.get(int(row.id))


def filed(
    conn: sa.Connection, site_id: str, periods: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """The filed months of a site (``period``, ``locked_by``, ``locked_at``, ``note``)."""
    query = sa.select(period_locks).where(period_locks.c.site_id == site_id)
    if periods is not None:
        query = query.where(period_locks.c.period.in_(list(periods)))
    return [dict(r._mapping) for r in conn.execute(query.order_by(period_locks.c.period))]


def file(
    conn: sa.Connection,
    ledger: LedgerLike,
    site_id: str,
    periods: Sequence[str],
    by: Principal,
    reason: str = "",
    *,
    at: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """File months of a site; returns, per month, the result versions filed.

    Refused (nothing changed) when a month is already filed, has no result, or still has
    a pending proposal (decide on it first).
    """
    _require(by, FILERS, "报送（锁定）月份", "file months")
    months = sorted(set(periods))
    if not months:
        raise InputError("没有要报送的月份 / no month to file", field="period")
    already = [r["period"] for r in filed(conn, site_id, months)]
    if already:
        raise InputError(
            f"已报送 / already filed: {', '.join(already)} (reopen first to file again)",
            field="period",
        )
    rs = result_sets
    rows = conn.execute(
        sa.select(rs.c.id, rs.c.source_id, rs.c.period, rs.c.version, rs.c.status,
                  rs.c.inputs_digest, rs.c.state)
        .where(rs.c.site_id == site_id, rs.c.period.in_(months),
               rs.c.status.in_(("current", "proposed")))
        .order_by(rs.c.period, rs.c.source_id)
    ).all()  # fmt: skip
    pending = sorted({f"{r.period} {r.source_id} v{r.version}" for r in rows
                      if r.status == "proposed"})  # fmt: skip
    if pending:
        raise InputError(
            f"尚有待决定的重算提议 / pending proposals must be accepted or rejected first: "
            f"{', '.join(pending)}",
            field="period",
        )
    have = {r.period for r in rows}
    empty = [m for m in months if m not in have]
    if empty:
        raise InputError(
            f"{', '.join(empty)} 没有核算结果，请先运行 tansuan account / no accounting "
            f"results for {', '.join(empty)} at {site_id}: run `tansuan account` first",
            field="period",
        )
    unresolved = sorted({f"{r.period} {r.source_id} ({r.state})" for r in rows
                         if r.status == "current" and r.state in PROBLEM_STATES})  # fmt: skip
    if unresolved:
        raise InputError(
            f"有核算失败或缺数据的源月份，不能报送 / cannot file a month with failed or missing "
            f"source-months (fix them and run `tansuan account` again): {', '.join(unresolved)}",
            field="period",
        )
    stamp = _now(at)
    note = (reason or "").strip()
    out = []
    for month in months:
        filed_sets = [[r.source_id, r.version, int(r.id), r.inputs_digest]
                      for r in rows if r.period == month]  # fmt: skip
        conn.execute(
            period_locks.insert().values(
                site_id=site_id, period=month, locked_at=stamp, locked_by=by.username, note=note
            )
        )
        ledger.append(
            conn,
            "filing",
            f"{site_id}/{month}/file",
            {"action": "file", "site": site_id, "period": month, "by": by.username,
             "role": by.role, "reason": note, "at": stamp.isoformat(), "sets": filed_sets},
        )  # fmt: skip
        out.append({"period": month, "sets": filed_sets})
    return out


def reopen(
    conn: sa.Connection,
    ledger: LedgerLike,
    site_id: str,
    periods: Sequence[str],
    by: Principal,
    reason: str,
    *,
    at: dt.datetime | None = None,
) -> list[str]:
    """Un-file months: an approver other than the user who filed them, with a reason."""
    _require(by, APPROVERS, "重新开放已报送月份", "reopen filed months")
    why = _reason(reason, "reopening a filed month")
    months = sorted(set(periods))
    locks = {r["period"]: r for r in filed(conn, site_id, months)}
    not_filed = [m for m in months if m not in locks]
    if not_filed or not months:
        raise InputError(f"未报送 / not filed: {', '.join(not_filed) or '—'}", field="period")
    own = [m for m in months if locks[m]["locked_by"] == by.username]
    if own:
        raise PermissionDenied(
            f"四眼原则：{by.username} 报送了 {', '.join(own)}，须由另一位审核人重新开放 / "
            f"four eyes: {by.username} filed {', '.join(own)}; another approver must reopen it"
        )
    stamp = _now(at)
    for month in months:
        conn.execute(
            period_locks.delete().where(
                period_locks.c.site_id == site_id, period_locks.c.period == month
            )
        )
        ledger.append(
            conn,
            "filing",
            f"{site_id}/{month}/reopen",
            {"action": "reopen", "site": site_id, "period": month, "by": by.username,
             "role": by.role, "reason": why, "at": stamp.isoformat(),
             "filed_by": locks[month]["locked_by"]},
        )  # fmt: skip
    return months


def pending(
    conn: sa.Connection, site_id: str | None = None, periods: Sequence[str] | None = None
) -> list[Proposal]:
    """Pending proposals (of a site, optionally of some months), oldest month first."""
    rs = result_sets
    query = sa.select(rs).where(rs.c.status == "proposed")
    if site_id is not None:
        query = query.where(rs.c.site_id == site_id)
    if periods is not None:
        query = query.where(rs.c.period.in_(list(periods)))
    rows = conn.execute(query.order_by(rs.c.site_id, rs.c.period, rs.c.source_id,
                                       rs.c.version)).all()  # fmt: skip
    if not rows:
        return []
    keys = {(r.site_id, r.source_id, r.period) for r in rows}
    currents = {
        (c.site_id, c.source_id, c.period): c
        for c in conn.execute(
            sa.select(rs).where(
                rs.c.status == "current",
                rs.c.site_id.in_({k[0] for k in keys}),
                rs.c.period.in_({k[2] for k in keys}),
            )
        )
        if (c.site_id, c.source_id, c.period) in keys
    }
    co2e = _co2e(conn, [r.id for r in rows] + [c.id for c in currents.values()])
    out = []
    for r in rows:
        current = currents.get((r.site_id, r.source_id, r.period))
        out.append(
            Proposal(
                set_id=int(r.id),
                site_id=r.site_id,
                source_id=r.source_id,
                period=r.period,
                version=int(r.version),
                reason=r.reason,
                computed_by=r.computed_by,
                computed_at=r.computed_at,
                co2e_g=_figure(r, co2e),
                current_version=None if current is None else int(current.version),
                current_co2e_g=None if current is None else _figure(current, co2e),
            )
        )
    return out


def proposal(conn: sa.Connection, set_id: int) -> Proposal:
    """One result set that is a pending proposal; NotFound / InputError otherwise."""
    row = conn.execute(
        sa.select(result_sets.c.site_id, result_sets.c.status).where(result_sets.c.id == set_id)
    ).first()
    if row is None:
        raise NotFound(f"没有该提议 / no proposal {set_id}")
    if row.status != "proposed":
        raise InputError(
            f"结果 {set_id} 不是待决定的提议（{row.status}）/ result {set_id} is {row.status}, "
            "not a pending proposal",
            field="id",
        )
    return next(p for p in pending(conn, row.site_id) if p.set_id == set_id)


def _four_eyes(found: Proposal, by: Principal) -> None:
    if found.computed_by is not None and found.computed_by == by.username:
        raise PermissionDenied(
            f"四眼原则：提议 {found.set_id} 由 {by.username} 提出，须由另一位审核人决定 / "
            f"four eyes: {by.username} proposed {found.set_id}; another approver must decide"
        )


def _decision_leaf(
    conn: sa.Connection, ledger: LedgerLike, found: Proposal, action: str, by: Principal,
    note: str, stamp: dt.datetime,
) -> None:  # fmt: skip
    digest = conn.execute(
        sa.select(result_sets.c.inputs_digest).where(result_sets.c.id == found.set_id)
    ).scalar_one()
    ledger.append(
        conn,
        "proposal",
        f"{found.site_id}/{found.source_id}/{found.period}/v{found.version}/{action}",
        {"action": action, "result_set": found.set_id, "site": found.site_id,
         "source": found.source_id, "period": found.period, "version": found.version,
         "inputs_digest": digest, "current_version": found.current_version,
         "proposed_by": found.computed_by, "by": by.username, "role": by.role,
         "note": note, "at": stamp.isoformat()},
    )  # fmt: skip


def accept(
    conn: sa.Connection,
    ledger: LedgerLike,
    set_id: int,
    by: Principal,
    note: str = "",
    *,
    at: dt.datetime | None = None,
) -> Proposal:
    """Make a proposal the current (filed) version of its month."""
    _require(by, APPROVERS, "接受重算提议", "accept proposals")
    found = proposal(conn, set_id)
    _four_eyes(found, by)
    stamp = _now(at)
    text = (note or "").strip()
    results.accept(conn, found.site_id, found.source_id, found.period, found.version,
                   by.username)  # fmt: skip
    conn.execute(
        result_sets.update()
        .where(result_sets.c.id == set_id)
        .values(decided_by=by.username, decided_at=stamp, decision_note=text)
    )
    _decision_leaf(conn, ledger, found, "accept", by, text, stamp)
    return found


def reject(
    conn: sa.Connection,
    ledger: LedgerLike,
    set_id: int,
    by: Principal,
    reason: str,
    *,
    at: dt.datetime | None = None,
) -> Proposal:
    """Set a proposal aside: the filed version stays current. Needs a reason."""
    _require(by, APPROVERS, "驳回重算提议", "reject proposals")
    why = _reason(reason, "rejecting a proposal")
    found = proposal(conn, set_id)
    _four_eyes(found, by)
    stamp = _now(at)
    conn.execute(
        result_sets.update()
        .where(result_sets.c.id == set_id)
        .values(status="rejected", decided_by=by.username, decided_at=stamp, decision_note=why)
    )
    _decision_leaf(conn, ledger, found, "reject", by, why, stamp)
    return found


def proposal_hook(ledger: LedgerLike, by: Principal | None = None) -> results.VersionHook:
    """Accounting hook: record who computed each saved version (when named) and append a
    ``proposal`` leaf for every version saved as a proposal (a filed month recalculated)."""
    if by is not None:
        _require(by, FILERS, "核算并提出重算提议", "run accounting and propose recalculations")

    def hook(conn: sa.Connection, set_id: int, result: results.ResultSet, version: int) -> None:
        if by is not None:
            conn.execute(
                result_sets.update()
                .where(result_sets.c.id == set_id)
                .values(computed_by=by.username)
            )
        status = conn.execute(
            sa.select(result_sets.c.status).where(result_sets.c.id == set_id)
        ).scalar_one()
        if status != "proposed":
            return
        ledger.append(
            conn,
            "proposal",
            f"{result.site_id}/{result.source_id}/{result.period}/v{version}/propose",
            {"action": "propose", "result_set": set_id, "site": result.site_id,
             "source": result.source_id, "period": result.period, "version": version,
             "inputs_digest": result.digest(),
             "by": None if by is None else by.username},
        )  # fmt: skip

    return hook
