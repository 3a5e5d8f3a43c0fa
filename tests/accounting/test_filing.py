"""The four-eyes filing workflow (accounting.filing): file, propose, accept, reject, reopen.

Real SQLite and PostgreSQL, a real ledger. Every step is checked for its ledger leaf and
every refused step for leaving the store as it was.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa

from tansuan.accounting import filing, results
from tansuan.accounting.results import ResultLine, ResultSet
from tansuan.errors import InputError, NotFound, PermissionDenied
from tansuan.ledger.log import Ledger
from tansuan.ledger.signing import key_dir, load_or_create_key
from tansuan.store.engine import upgrade
from tansuan.store.schema import period_locks, result_sets
from tansuan.store.schema.ledger import ledger_leaves
from tansuan.store.users import Principal

AT = dt.datetime(2026, 3, 10, 8, 0, tzinfo=dt.UTC)  #: the decision instant, injected

ACCOUNTANT = Principal(1, "lin", "Lin", "org", "carbon_accountant", frozenset({"read"}))
ACCOUNTANT_2 = Principal(4, "wu", "Wu", "org", "carbon_accountant", frozenset({"read"}))
APPROVER = Principal(2, "zhao", "Zhao", "org", "approver", frozenset({"read"}))
ADMIN = Principal(3, "root", "Root", "org", "admin", frozenset({"read", "admin"}))
OPERATOR = Principal(5, "op", "Op", "org", "operator", frozenset({"read"}))


def _result(fuel_t: float, co2e_g: int, *, market_g: int = 0) -> ResultSet:
    lines = [ResultLine("CO2", "1", co2e_g, co2e_g)]
    if market_g:
        lines.append(ResultLine("CO2", "2-market", market_g, market_g))
    return ResultSet(
        site_id="s1",
        source_id="boiler",
        period="2025-03",
        method="combustion",
        lines=tuple(lines),
        inputs={"fuel_t": fuel_t},
        trace={"formula": "combustion"},
        grade="A",
        coverage=1.0,
        substituted_share=0.0,
    )


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(load_or_create_key(key_dir(tmp_path / "var")), clock=lambda: AT)


def _leaves(conn: sa.Connection, kind: str) -> list[dict[str, object]]:
    rows = conn.execute(
        sa.select(ledger_leaves.c.ref, ledger_leaves.c.payload)
        .where(ledger_leaves.c.kind == kind)
        .order_by(ledger_leaves.c.leaf_index)
    )
    return [{"ref": ref, **orjson.loads(payload)} for ref, payload in rows]


def _statuses(conn: sa.Connection) -> list[tuple[int, str]]:
    rows = conn.execute(
        sa.select(result_sets.c.version, result_sets.c.status).order_by(result_sets.c.version)
    )
    return [(int(v), str(s)) for v, s in rows]


def test_file_propose_accept(db: sa.Engine, ledger: Ledger) -> None:
    """Lin files March (v1: 300 t), recomputes with 101 t fuel → v2 proposed (303 t),
    Zhao accepts: v2 current, v1 superseded. Difference 303 − 300 = 3 t = 3,000,000 g.
    Market-based Scope 2 (50 t) is never in the figure."""
    upgrade(db)
    hook = filing.proposal_hook(ledger, ACCOUNTANT)
    with db.begin() as conn:
        results.save(conn, _result(100.0, 300_000_000, market_g=50_000_000), hooks=[hook])
        done = filing.file(conn, ledger, "s1", ["2025-03"], ACCOUNTANT, "Q1 filing", at=AT)
        assert done == [{"period": "2025-03", "sets": [["boiler", 1, 1, done[0]["sets"][0][3]]]}]
        lock = conn.execute(sa.select(period_locks)).one()
        assert (lock.locked_by, lock.note) == ("lin", "Q1 filing")
        saved = results.save(conn, _result(101.0, 303_000_000, market_g=50_000_000), hooks=[hook])
        assert saved.status == "proposed"
        [found] = filing.pending(conn, "s1")
        assert (found.version, found.computed_by, found.current_version) == (2, "lin", 1)
        assert (found.co2e_g, found.current_co2e_g, found.difference_g) == (
            303_000_000,
            300_000_000,
            3_000_000,
        )
        filing.accept(conn, ledger, found.set_id, APPROVER, "lab value corrected", at=AT)
        assert _statuses(conn) == [(1, "superseded"), (2, "current")]
        row = conn.execute(sa.select(result_sets).where(result_sets.c.version == 2)).one()
        assert (row.computed_by, row.decided_by, row.decision_note) == (
            "lin",
            "zhao",
            "lab value corrected",
        )
        assert filing.pending(conn, "s1") == []
        [filed_leaf] = _leaves(conn, "filing")
        assert (filed_leaf["ref"], filed_leaf["action"], filed_leaf["by"]) == (
            "s1/2025-03/file",
            "file",
            "lin",
        )
        steps = [(leaf["action"], leaf["by"]) for leaf in _leaves(conn, "proposal")]
        assert steps == [("propose", "lin"), ("accept", "zhao")]


def test_four_eyes_and_roles(db: sa.Engine, ledger: Ledger) -> None:
    """The proposer cannot decide on their own proposal, even as admin; an operator may
    neither file nor decide; a refused step changes nothing and logs nothing."""
    upgrade(db)
    admin_hook = filing.proposal_hook(ledger, ADMIN)
    with db.begin() as conn:
        results.save(conn, _result(100.0, 300_000_000))
        with pytest.raises(PermissionDenied, match="may not file months"):
            filing.file(conn, ledger, "s1", ["2025-03"], OPERATOR)
        with pytest.raises(PermissionDenied, match="may not file months"):
            filing.file(conn, ledger, "s1", ["2025-03"], APPROVER)
        filing.file(conn, ledger, "s1", ["2025-03"], ADMIN, at=AT)
        with pytest.raises(InputError, match="already filed: 2025-03"):
            filing.file(conn, ledger, "s1", ["2025-03"], ACCOUNTANT)
        results.save(conn, _result(102.0, 306_000_000), hooks=[admin_hook])
        [found] = filing.pending(conn, "s1")
        before = (_statuses(conn), len(_leaves(conn, "proposal")))
        with pytest.raises(PermissionDenied, match="four eyes: root proposed"):
            filing.accept(conn, ledger, found.set_id, ADMIN)
        with pytest.raises(PermissionDenied, match="may not accept"):
            filing.accept(conn, ledger, found.set_id, ACCOUNTANT)
        with pytest.raises(PermissionDenied, match="may not reject"):
            filing.reject(conn, ledger, found.set_id, OPERATOR, "no")
        with pytest.raises(InputError, match="needs a reason"):
            filing.reject(conn, ledger, found.set_id, APPROVER, "  ")
        with pytest.raises(NotFound, match="no proposal 999"):
            filing.accept(conn, ledger, 999, APPROVER)
        with pytest.raises(InputError, match="is current, not a pending proposal"):
            filing.accept(conn, ledger, 1, APPROVER)
        assert (_statuses(conn), len(_leaves(conn, "proposal"))) == before
        filing.reopen(conn, ledger, "s1", ["2025-03"], APPROVER, "late invoice", at=AT)
        with pytest.raises(InputError, match="pending proposals must be accepted"):
            filing.file(conn, ledger, "s1", ["2025-03"], ACCOUNTANT)
        assert filing.filed(conn, "s1") == []
        with pytest.raises(PermissionDenied, match="needs role carbon_accountant or admin"):
            filing.proposal_hook(ledger, APPROVER)


def test_reject_is_not_proposed_again(db: sa.Engine, ledger: Ledger) -> None:
    """A rejected recalculation stays rejected when the same inputs are computed again;
    different inputs make a new proposal (v3)."""
    upgrade(db)
    hook = filing.proposal_hook(ledger, ACCOUNTANT)
    with db.begin() as conn:
        results.save(conn, _result(100.0, 300_000_000), hooks=[hook])
        filing.file(conn, ledger, "s1", ["2025-03"], ACCOUNTANT, at=AT)
        results.save(conn, _result(150.0, 450_000_000), hooks=[hook])
        [found] = filing.pending(conn, "s1")
        filing.reject(conn, ledger, found.set_id, APPROVER, "meter misread", at=AT)
        again = results.save(conn, _result(150.0, 450_000_000), hooks=[hook])
        assert (again.status, again.outcome) == ("rejected", "unchanged")
        many = results.save_many(conn, [_result(150.0, 450_000_000)], hooks=[hook])
        assert [(s.status, s.outcome) for s in many] == [("rejected", "unchanged")]
        assert _statuses(conn) == [(1, "current"), (2, "rejected")]
        assert [p.version for p in filing.pending(conn, "s1")] == []
        newer = results.save(conn, _result(151.0, 453_000_000), hooks=[hook])
        assert (newer.version, newer.status) == (3, "proposed")
        reject_leaf = _leaves(conn, "proposal")[1]
        assert (reject_leaf["action"], reject_leaf["note"], reject_leaf["proposed_by"]) == (
            "reject",
            "meter misread",
            "lin",
        )


def test_reopen(db: sa.Engine, ledger: Ledger) -> None:
    """Reopening needs an approver who did not file the month, and a reason; afterwards
    a recalculation replaces the figures again (superseded, not proposed)."""
    upgrade(db)
    approver_admin = Principal(6, "lin", "Lin", "org", "admin", frozenset({"read"}))
    with db.begin() as conn:
        results.save(conn, _result(100.0, 300_000_000))
        filing.file(conn, ledger, "s1", ["2025-03"], ACCOUNTANT, at=AT)
        with pytest.raises(InputError, match="needs a reason"):
            filing.reopen(conn, ledger, "s1", ["2025-03"], APPROVER, "")
        with pytest.raises(PermissionDenied, match="four eyes: lin filed 2025-03"):
            filing.reopen(conn, ledger, "s1", ["2025-03"], approver_admin, "mine")
        with pytest.raises(PermissionDenied, match="may not reopen"):
            filing.reopen(conn, ledger, "s1", ["2025-03"], ACCOUNTANT_2, "x")
        with pytest.raises(InputError, match="not filed: 2025-04"):
            filing.reopen(conn, ledger, "s1", ["2025-04"], APPROVER, "x")
        assert filing.reopen(conn, ledger, "s1", ["2025-03"], APPROVER, "late invoice") == [
            "2025-03"
        ]
        assert filing.filed(conn, "s1") == []
        assert results.save(conn, _result(101.0, 303_000_000)).outcome == "superseded"
        leaves = _leaves(conn, "filing")
        assert [(x["action"], x["by"], x["reason"]) for x in leaves] == [
            ("file", "lin", ""),
            ("reopen", "zhao", "late invoice"),
        ]


def test_file_needs_results(db: sa.Engine, ledger: Ledger) -> None:
    """A month without any result cannot be filed; nothing is locked."""
    upgrade(db)
    with db.begin() as conn:
        with pytest.raises(InputError, match="no accounting results for 2025-04"):
            filing.file(conn, ledger, "s1", ["2025-04"], ACCOUNTANT)
        assert filing.filed(conn, "s1") == []
        assert _leaves(conn, "filing") == []


def test_proposal_without_lines_has_no_figure(db: sa.Engine, ledger: Ledger) -> None:
    """A proposal with no result lines (no figure) lists co2e None — never 0 — and so
    has no difference."""
    upgrade(db)
    with db.begin() as conn:
        results.save(conn, _result(100.0, 300_000_000))
        filing.file(conn, ledger, "s1", ["2025-03"], ACCOUNTANT, at=AT)
        empty = ResultSet(
            site_id="s1", source_id="boiler", period="2025-03", method="combustion",
            lines=(), inputs={"fuel_t": None}, trace={}, grade="D", coverage=0.0,
            substituted_share=0.0,
        )  # fmt: skip
        results.save(conn, empty)
        [found] = filing.pending(conn)
        assert (found.co2e_g, found.current_co2e_g, found.difference_g) == (
            None,
            300_000_000,
            None,
        )
        assert found.computed_by is None
        assert found.as_dict()["co2e_g"] is None


def test_a_month_with_a_failed_or_missing_source_cannot_be_filed(
    db: sa.Engine, ledger: Ledger
) -> None:
    """Filing says "this month is final": a month with a failed or missing source-month is
    not, so it is refused, naming the source and its state; nothing is locked or logged. A
    failed proposal (the recalculation of a filed month failed) is listed with no figure."""
    upgrade(db)
    with db.begin() as conn:
        results.save(conn, _result(100.0, 300_000_000))
        missing = ResultSet(
            site_id="s1", source_id="kiln", period="2025-03", method="process", lines=(),
            inputs={"month": "2025-03"}, trace={}, grade="D", coverage=0.0,
            substituted_share=0.0, state="missing", problem="no data", fix="import it",
        )  # fmt: skip
        results.save(conn, missing)
        with pytest.raises(InputError, match=r"failed or missing.*2025-03 kiln \(missing\)"):
            filing.file(conn, ledger, "s1", ["2025-03"], ACCOUNTANT, at=AT)
        assert filing.filed(conn, "s1") == []
        assert _leaves(conn, "filing") == []
        # once only computed months remain, it files, and a failed recalculation is proposed
        conn.execute(sa.delete(result_sets).where(result_sets.c.source_id == "kiln"))
        filing.file(conn, ledger, "s1", ["2025-03"], ACCOUNTANT, at=AT)
        failed = ResultSet(
            site_id="s1", source_id="boiler", period="2025-03", method="combustion", lines=(),
            inputs={"fuel_t": 110.0}, trace={}, grade="D", coverage=0.0,
            substituted_share=0.0, state="failed", problem="no NCV", fix="import it",
        )  # fmt: skip
        results.save(conn, failed)
        [found] = filing.pending(conn)
        assert (found.co2e_g, found.current_co2e_g) == (None, 300_000_000)
