"""Versioned emission results: keep every version, never change a filed period silently.

A *result set* is one source × one month: its lines (gas × scope, in integer grams),
its trace, its quality and a digest of every input it used. Saving a new computation:

* same inputs digest as the current version → nothing is written (a re-run is a no-op);
* different digest, period open → the new set becomes ``current``; the old one is kept as
  ``superseded`` with the reason (which inputs changed);
* different digest, period **locked** (filed) → the new set is stored as ``proposed`` and
  the filed version stays ``current`` until someone explicitly :func:`accept` s it (the
  four-eyes workflow: :mod:`tansuan.accounting.filing`); a proposal that was rejected is
  not proposed again while the inputs stay the same.

Every saved version can be appended to the tamper-evident ledger by a hook. The tables are
the store's (:mod:`tansuan.store.schema.results`), created by its migrations.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
import sqlalchemy as sa

from tansuan import __version__
from tansuan.errors import InputError, NotFound
from tansuan.store.schema import period_locks, result_lines, result_sets, stale_marks

Status = Literal["current", "superseded", "proposed", "rejected"]
Outcome = Literal["unchanged", "created", "superseded", "proposed"]


@dataclass(frozen=True)
class ResultLine:
    gas: str
    scope: str
    mass_g: int
    co2e_g: int


@dataclass(frozen=True)
class ResultSet:
    """One source × month computation, ready to be saved."""

    site_id: str
    source_id: str
    period: str
    method: str
    lines: tuple[ResultLine, ...]
    inputs: Mapping[str, Any]  #: every input value used, for the digest and the trace
    trace: Mapping[str, Any]
    grade: str
    coverage: float
    substituted_share: float
    notes: tuple[str, ...] = field(default=())
    counted: bool = True  #: False: a cross-check measurement, never added into totals
    #: ``computed``, or ``failed`` / ``missing`` (no lines: the CO2e is unknown, never 0,
    #: with ``problem`` and ``fix``), or ``inactive`` (outside the source's active period).
    state: str = "computed"
    problem: str | None = None
    fix: str | None = None

    @property
    def co2e_g(self) -> int:
        return sum(line.co2e_g for line in self.lines)

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of the inputs and the lines."""
        body = {
            "counted": self.counted,
            "inputs": self.inputs,
            "lines": sorted((ln.gas, ln.scope, ln.mass_g, ln.co2e_g) for ln in self.lines),
            "method": self.method,
        }
        if self.state != "computed":  # computed sets keep the digest they always had
            body["state"] = self.state
        return hashlib.sha256(canonical_json(body)).hexdigest()


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the same value always gives the same bytes."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def stored_trace(result: ResultSet) -> bytes:
    """The trace bytes a saved version stores (and its ledger leaf binds by SHA-256):
    the result's trace with its inputs and notes, as canonical JSON."""
    return canonical_json({**result.trace, "inputs": result.inputs, "notes": list(result.notes)})


@dataclass(frozen=True)
class SavedVersion:
    set_id: int
    version: int
    status: Status
    outcome: Outcome


#: Called inside the transaction for every new version (e.g. to append a ledger leaf).
VersionHook = Callable[[sa.Connection, int, ResultSet, int], None]


def is_locked(conn: sa.Connection, site_id: str, period: str) -> bool:
    row = conn.execute(
        sa.select(period_locks.c.period).where(
            period_locks.c.site_id == site_id, period_locks.c.period == period
        )
    ).first()
    return row is not None


def lock(
    conn: sa.Connection, site_id: str, periods: Iterable[str], by: str, note: str = ""
) -> None:
    """Mark months as filed: later recalculations become proposals."""
    now = dt.datetime.now(dt.UTC)
    for period in periods:
        if not is_locked(conn, site_id, period):
            conn.execute(
                period_locks.insert().values(
                    site_id=site_id, period=period, locked_at=now, locked_by=by, note=note
                )
            )


def save(
    conn: sa.Connection, result: ResultSet, *, hooks: Sequence[VersionHook] = ()
) -> SavedVersion:
    """Save a computation as a new version if (and only if) its inputs changed."""
    rs = result_sets
    key = (
        (rs.c.site_id == result.site_id)
        & (rs.c.source_id == result.source_id)
        & (rs.c.period == result.period)
    )
    digest = result.digest()
    rows = conn.execute(
        sa.select(rs.c.id, rs.c.version, rs.c.status, rs.c.inputs_digest, rs.c.trace).where(key)
    ).all()
    current = next((r for r in rows if r.status == "current"), None)
    pending = [r for r in rows if r.status in ("proposed", "rejected")]
    if current is not None and current.inputs_digest == digest:
        return SavedVersion(current.id, current.version, "current", "unchanged")
    for proposal in pending:  # a rejected recalculation is not proposed again
        if proposal.inputs_digest == digest:
            return SavedVersion(proposal.id, proposal.version, proposal.status, "unchanged")
    version = max((r.version for r in rows), default=0) + 1
    locked = is_locked(conn, result.site_id, result.period)
    if current is None:
        status: Status = "current"
        outcome: Outcome = "created"
        reason = "first computation"
    else:
        previous_inputs = orjson.loads(current.trace).get("inputs", {})
        reason = describe_change(previous_inputs, result.inputs)
        status, outcome = ("proposed", "proposed") if locked else ("current", "superseded")
    if status == "current" and current is not None:
        conn.execute(
            rs.update()
            .where(rs.c.id == current.id)
            .values(status="superseded", reason=f"superseded by v{version}: {reason}")
        )
    set_id = conn.execute(
        rs.insert()
        .values(
            site_id=result.site_id,
            source_id=result.source_id,
            period=result.period,
            version=version,
            status=status,
            method=result.method,
            reason=reason,
            inputs_digest=digest,
            grade=result.grade,
            coverage=result.coverage,
            substituted_share=result.substituted_share,
            trace=stored_trace(result),
            computed_at=dt.datetime.now(dt.UTC),
            software_version=__version__,
            counted=result.counted,
            state=result.state,
            problem=result.problem,
            fix=result.fix,
        )
        .returning(rs.c.id)
    ).scalar_one()
    if result.lines:
        conn.execute(
            result_lines.insert(),
            [
                {
                    "set_id": set_id,
                    "gas": ln.gas,
                    "scope": ln.scope,
                    "mass_g": ln.mass_g,
                    "co2e_g": ln.co2e_g,
                }
                for ln in result.lines
            ],
        )
    for hook in hooks:
        hook(conn, set_id, result, version)
    return SavedVersion(set_id, version, status, outcome)


def describe_change(before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    """Name the inputs that differ between two computations."""
    changed = sorted(key for key in set(before) | set(after) if before.get(key) != after.get(key))
    if not changed:
        return "method or software changed"
    shown = ", ".join(f"{k}: {before.get(k)!r} → {after.get(k)!r}" for k in changed[:5])
    more = f" (+{len(changed) - 5} more)" if len(changed) > 5 else ""
    return f"inputs changed: {shown}{more}"


def accept(
    conn: sa.Connection, site_id: str, source_id: str, period: str, version: int, by: str
) -> None:
    """Make a proposed recalculation of a filed period the current version."""
    rs = result_sets
    key = (rs.c.site_id == site_id) & (rs.c.source_id == source_id) & (rs.c.period == period)
    row = conn.execute(
        sa.select(rs.c.id, rs.c.status).where(key & (rs.c.version == version))
    ).first()
    if row is None:
        raise NotFound(f"no version {version} of {source_id} for {period} at {site_id}")
    if row.status != "proposed":
        raise InputError(f"version {version} is {row.status}, not proposed", field="version")
    conn.execute(
        rs.update()
        .where(key & (rs.c.status == "current"))
        .values(status="superseded", reason=f"superseded by accepted v{version} ({by})")
    )
    conn.execute(rs.update().where(rs.c.id == row.id).values(status="current"))


def mark_stale(
    conn: sa.Connection, site_id: str, marks: Iterable[tuple[str, str]], reason: str
) -> int:
    """Mark (source, month) pairs as needing recalculation; returns how many were new."""
    now = dt.datetime.now(dt.UTC)
    existing = {
        (r.source_id, r.period)
        for r in conn.execute(
            sa.select(stale_marks.c.source_id, stale_marks.c.period).where(
                stale_marks.c.site_id == site_id
            )
        )
    }
    new = [
        {"site_id": site_id, "source_id": s, "period": p, "reason": reason, "marked_at": now}
        for s, p in set(marks)
        if (s, p) not in existing
    ]
    if new:
        conn.execute(stale_marks.insert(), new)
    return len(new)


def stale(conn: sa.Connection, site_id: str) -> list[tuple[str, str, str]]:
    """(source, month, reason) pairs waiting for recalculation."""
    return [
        (r.source_id, r.period, r.reason)
        for r in conn.execute(
            sa.select(stale_marks)
            .where(stale_marks.c.site_id == site_id)
            .order_by(stale_marks.c.period, stale_marks.c.source_id)
        )
    ]


def clear_stale(conn: sa.Connection, site_id: str, source_id: str, period: str) -> None:
    conn.execute(
        stale_marks.delete().where(
            (stale_marks.c.site_id == site_id)
            & (stale_marks.c.source_id == source_id)
            & (stale_marks.c.period == period)
        )
    )


def current_lines(
    conn: sa.Connection,
    site_id: str,
    periods: Sequence[str],
    *,
    status: Status = "current",
    include_checks: bool = False,
) -> list[dict[str, Any]]:
    """Every current result line of a site for the given months, with its set's metadata.

    Lines of cross-check sources (a CEMS source that verifies a calculated one) are left
    out unless ``include_checks``: adding them would count the same CO2 twice.
    """
    rs, rl = result_sets, result_lines
    query = (
        sa.select(
            rs.c.id,
            rs.c.source_id,
            rs.c.period,
            rs.c.version,
            rs.c.method,
            rs.c.grade,
            rs.c.coverage,
            rs.c.substituted_share,
            rs.c.counted,
            rl.c.gas,
            rl.c.scope,
            rl.c.mass_g,
            rl.c.co2e_g,
        )
        .join(rl, rl.c.set_id == rs.c.id)
        .where(rs.c.site_id == site_id, rs.c.status == status, rs.c.period.in_(list(periods)))
        .order_by(rs.c.source_id, rs.c.period, rl.c.gas, rl.c.scope)
    )
    if not include_checks:
        query = query.where(rs.c.counted.is_(True))
    return [dict(row._mapping) for row in conn.execute(query)]


def problem_sets(
    conn: sa.Connection, site_id: str, periods: Sequence[str], *, include_checks: bool = False
) -> list[dict[str, Any]]:
    """The current result sets of a site for the given months that are not computed.

    Each as ``{id, source_id, period, version, method, state, problem, fix, grade,
    coverage, counted}``, ordered by source and month. ``failed`` and ``missing`` sets
    make any total over them incomplete; ``inactive`` ones (outside the source's active
    period) are listed too and do not.
    """
    rs = result_sets
    query = (
        sa.select(
            rs.c.id,
            rs.c.source_id,
            rs.c.period,
            rs.c.version,
            rs.c.method,
            rs.c.state,
            rs.c.problem,
            rs.c.fix,
            rs.c.grade,
            rs.c.coverage,
            rs.c.counted,
        )
        .where(
            rs.c.site_id == site_id,
            rs.c.status == "current",
            rs.c.state != "computed",
            rs.c.period.in_(list(periods)),
        )
        .order_by(rs.c.source_id, rs.c.period)
    )
    if not include_checks:
        query = query.where(rs.c.counted.is_(True))
    return [dict(row._mapping) for row in conn.execute(query)]


def computed_pairs(
    conn: sa.Connection, site_id: str, periods: Sequence[str]
) -> set[tuple[str, str]]:
    """(source, month) pairs that have a current result."""
    rs = result_sets
    rows = conn.execute(
        sa.select(rs.c.source_id, rs.c.period).where(
            rs.c.site_id == site_id, rs.c.status == "current", rs.c.period.in_(list(periods))
        )
    )
    return {(r.source_id, r.period) for r in rows}


def trace_of(conn: sa.Connection, set_id: int) -> dict[str, Any]:
    row = conn.execute(sa.select(result_sets.c.trace).where(result_sets.c.id == set_id)).first()
    if row is None:
        raise NotFound(f"no result set {set_id}")
    value: dict[str, Any] = orjson.loads(row[0])
    return value


def history(conn: sa.Connection, site_id: str, source_id: str, period: str) -> list[dict[str, Any]]:
    """Every version of one source-month, oldest first."""
    rs = result_sets
    rows = conn.execute(
        sa.select(rs.c.id, rs.c.version, rs.c.status, rs.c.reason, rs.c.computed_at)
        .where(rs.c.site_id == site_id, rs.c.source_id == source_id, rs.c.period == period)
        .order_by(rs.c.version)
    )
    return [dict(row._mapping) for row in rows]


def save_many(
    conn: sa.Connection, computed: Sequence[ResultSet], *, hooks: Sequence[VersionHook] = ()
) -> list[SavedVersion]:
    """:func:`save` for many source-months at once, with a handful of queries.

    Same rules as :func:`save`; used by accounting runs, where a year of a large site is
    thousands of source-months and one query each would dominate the run.
    """
    if not computed:
        return []
    rs = result_sets
    site_ids = {r.site_id for r in computed}
    periods = sorted({r.period for r in computed})
    existing = conn.execute(
        sa.select(
            rs.c.id,
            rs.c.site_id,
            rs.c.source_id,
            rs.c.period,
            rs.c.version,
            rs.c.status,
            rs.c.inputs_digest,
        ).where(rs.c.site_id.in_(site_ids), rs.c.period.in_(periods))
    ).all()
    by_key: dict[tuple[str, str, str], list[Any]] = {}
    for row in existing:
        by_key.setdefault((row.site_id, row.source_id, row.period), []).append(row)
    locked = {
        (r.site_id, r.period)
        for r in conn.execute(
            sa.select(period_locks.c.site_id, period_locks.c.period).where(
                period_locks.c.site_id.in_(site_ids), period_locks.c.period.in_(periods)
            )
        )
    }
    outcomes: list[SavedVersion | None] = []
    to_insert: list[tuple[int, ResultSet, dict[str, Any]]] = []
    supersede: list[tuple[int, str]] = []
    now = dt.datetime.now(dt.UTC)
    for index, result in enumerate(computed):
        rows = by_key.get((result.site_id, result.source_id, result.period), [])
        digest = result.digest()
        current = next((r for r in rows if r.status == "current"), None)
        same = next(
            (
                r
                for r in rows
                if r.status in ("current", "proposed", "rejected") and r.inputs_digest == digest
            ),
            None,
        )
        if same is not None:
            outcomes.append(SavedVersion(same.id, same.version, same.status, "unchanged"))
            continue
        version = max((r.version for r in rows), default=0) + 1
        status: Status
        outcome: Outcome
        if current is None:
            status, outcome, reason = "current", "created", "first computation"
        else:
            before = orjson.loads(
                conn.execute(sa.select(rs.c.trace).where(rs.c.id == current.id)).scalar_one()
            ).get("inputs", {})
            reason = describe_change(before, result.inputs)
            if (result.site_id, result.period) in locked:
                status, outcome = "proposed", "proposed"
            else:
                status, outcome = "current", "superseded"
                supersede.append((current.id, f"superseded by v{version}: {reason}"))
        outcomes.append(SavedVersion(-1, version, status, outcome))
        to_insert.append(
            (
                index,
                result,
                {
                    "site_id": result.site_id,
                    "source_id": result.source_id,
                    "period": result.period,
                    "version": version,
                    "status": status,
                    "method": result.method,
                    "reason": reason,
                    "inputs_digest": digest,
                    "grade": result.grade,
                    "coverage": result.coverage,
                    "substituted_share": result.substituted_share,
                    "trace": stored_trace(result),
                    "computed_at": now,
                    "software_version": __version__,
                    "counted": result.counted,
                    "state": result.state,
                    "problem": result.problem,
                    "fix": result.fix,
                },
            )
        )
    for set_id, reason in supersede:
        conn.execute(
            rs.update().where(rs.c.id == set_id).values(status="superseded", reason=reason)
        )
    if to_insert:
        ids = (
            conn.execute(
                rs.insert().returning(rs.c.id, sort_by_parameter_order=True),
                [values for _, _, values in to_insert],
            )
            .scalars()
            .all()
        )
        line_rows = [
            {
                "set_id": set_id,
                "gas": ln.gas,
                "scope": ln.scope,
                "mass_g": ln.mass_g,
                "co2e_g": ln.co2e_g,
            }
            for set_id, (_, result, _) in zip(ids, to_insert, strict=True)
            for ln in result.lines
        ]
        if line_rows:
            conn.execute(result_lines.insert(), line_rows)
        for set_id, (index, result, values) in zip(ids, to_insert, strict=True):
            saved = outcomes[index]
            assert saved is not None
            outcomes[index] = SavedVersion(set_id, saved.version, saved.status, saved.outcome)
            for hook in hooks:
                hook(conn, set_id, result, int(values["version"]))
    return [o for o in outcomes if o is not None]
