"""Allowance accounts in the store (SQLite and PostgreSQL): versions, trades, the ledger
leaves of every change, refused changes leaving everything as it was, and tenancy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tansuan.errors import InputError, NotFound, ValidationFailed
from tansuan.ledger import Ledger
from tansuan.ledger import schema as ledger_schema
from tansuan.market import accounts
from tansuan.store import Store
from tansuan.store import market as db

#: Free allocation 900 000 t, 10 000 banked, 40 000 CEA bought, 60 000 CCER bought, 100 000
#: CEA sold: the figures of tests/market/test_position.py::test_short_after_selling.
FILE: dict[str, Any] = {
    "entity": "plant-1",
    "year": 2022,
    "price": 80,
    "emissions": {"mean": 1_000_000, "sd": 50_000},
    "allocation": 900_000,
    "banked": 10_000,
    "trades": [
        {"date": "2022-05-01", "side": "buy", "instrument": "CEA", "quantity": 40_000, "price": 58},
        {"date": "2022-06-01", "side": "buy", "instrument": "CCER", "quantity": 60_000,
         "price": 40},
        {"date": "2022-07-01", "side": "sell", "instrument": "CEA", "quantity": 100_000,
         "price": 60},
    ],
}  # fmt: skip


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger.from_data_dir(tmp_path / "data")


def _leaves(store: Store) -> list[tuple[str, str]]:
    with store.read() as conn:
        rows = conn.execute(
            select(ledger_schema.leaves.c.kind, ledger_schema.leaves.c.ref).order_by(
                ledger_schema.leaves.c.leaf_index
            )
        )
        return [(r.kind, r.ref) for r in rows]


def _snapshot(store: Store) -> tuple[Any, ...]:
    """Everything stored about accounts, and the ledger size."""
    from tansuan.store.schema import allowance_account, allowance_trade

    with store.read() as conn:
        accounts_rows = [tuple(r) for r in conn.execute(select(allowance_account))]
        trade_rows = [tuple(r) for r in conn.execute(select(allowance_trade))]
        leaves = conn.execute(select(func.count()).select_from(ledger_schema.leaves)).scalar()
    return accounts_rows, trade_rows, leaves


def _import(store: Store, ledger: Ledger, raw: dict[str, Any]) -> dict[str, Any]:
    with store.write() as conn:
        return accounts.import_file(conn, ledger, "org", "site", raw, by="test:ann", where="f")


def test_import_versions_and_ledger_leaves(store: Store, ledger: Ledger) -> None:
    """Holdings: CEA = 900 000 + 40 000 − 100 000 + 10 000 = 850 000 t; CCER 60 000 t;
    trade cash = −40 000·58 − 60 000·40 + 100 000·60 = 1 280 000."""
    done = _import(store, ledger, FILE)
    assert (done["version"], done["trades_added"], done["trades_cancelled"]) == (1, 3, 0)
    with store.read() as conn:
        stored = accounts.load(conn, "org", "site", 2022)
    h = stored.account.holdings
    assert (h.cea, h.ccer) == (850_000, 60_000)
    assert stored.account.cash == pytest.approx(1_280_000)
    assert stored.row["changed_by"] == "test:ann" and stored.row["leaf_index"] == 0
    assert [k for k, _ in _leaves(store)] == ["allowance"] * 4
    # the same file again changes nothing: no version, no trade, no leaf — a note added
    # to a trade since does not make it another trade
    from tansuan.store.schema import allowance_trade

    with store.write() as conn:
        conn.execute(allowance_trade.update().where(allowance_trade.c.side == "sell")
                     .values(note="contract 7"))  # fmt: skip
    before = _snapshot(store)
    again = _import(store, ledger, FILE)
    assert (again["version"], again["trades_added"], again["trades_cancelled"]) == (None, 0, 0)
    assert _snapshot(store) == before
    # a file without the sale and a larger allocation: version 2, the sale cancelled (kept)
    changed = FILE | {"allocation": 950_000, "trades": FILE["trades"][:2]}
    done = _import(store, ledger, changed)
    assert (done["version"], done["trades_added"], done["trades_cancelled"]) == (2, 0, 1)
    with store.read() as conn:
        versions = db.account_versions(conn, "org", "site", 2022)
        stored = accounts.load(conn, "org", "site", 2022)
    assert [(v["version"], v["current"], v["allocation_t"]) for v in versions] == [
        (2, True, 950_000), (1, False, 900_000)
    ]  # fmt: skip
    sale = [t for t in stored.trades if t["side"] == "sell"]
    assert len(sale) == 1 and sale[0]["cancelled_by"] == "test:ann"
    assert stored.account.holdings.cea == 950_000 + 40_000 + 10_000
    refs = [r for _, r in _leaves(store)]
    assert refs[-2:] == [
        "allowance/site/2022/v2",
        f"allowance/site/2022/trade/{sale[0]['id']}/cancelled",
    ]


def test_bad_input_leaves_everything_unchanged(store: Store, ledger: Ledger) -> None:
    _import(store, ledger, FILE)
    before = _snapshot(store)
    # the schema: every issue listed
    with pytest.raises(ValidationFailed) as failed:
        _import(store, ledger, FILE | {"price": -1, "banked": "lots"})
    assert {i.path for i in failed.value.issues} == {"price", "banked"}
    # CEA held 850 000 t: selling 850 001 more is refused after it was written → rolled back
    sale = {"date": "2022-08-01", "side": "sell", "instrument": "CEA", "quantity": 850_001,
            "price": 60}  # fmt: skip
    with pytest.raises(InputError, match="more CEA sold than held"), store.write() as conn:
        accounts.add_trade(conn, ledger, "org", "site", 2022, sale, by="test")
    with pytest.raises(ValidationFailed), store.write() as conn:
        accounts.add_trade(conn, ledger, "org", "site", 2022, sale | {"side": "short"}, by="t")
    # all 60 000 t of CCER sold: cancelling their purchase would leave more sold than bought
    with store.write() as conn:
        ccer_buy = next(
            t for t in db.trades(conn, "org", "site", 2022) if t["instrument"] == "CCER"
        )
        accounts.add_trade(conn, ledger, "org", "site", 2022,
                           {"date": "2022-09-01", "side": "sell", "instrument": "CCER",
                            "quantity": 60_000, "price": 45}, by="test")  # fmt: skip
    middle = _snapshot(store)
    assert middle != before
    with pytest.raises(InputError, match="more CCER sold"), store.write() as conn:
        accounts.cancel_trade(conn, ledger, "org", "site", int(ccer_buy["id"]), by="test")
    with pytest.raises(InputError, match="must be a number"), store.write() as conn:
        accounts.set_values(conn, ledger, "org", "site", 2022, {"verified": -3}, by="test")
    with pytest.raises(NotFound, match="no open trade"), store.write() as conn:
        accounts.cancel_trade(conn, ledger, "org", "site", 9_999, by="test")
    assert _snapshot(store) == middle


def test_verified_emissions_and_entered_values(store: Store, ledger: Ledger) -> None:
    """Verified 800 000 t with no shortfall cap reached: obligation 800 000; CEA 850 000 +
    CCER usable min(60 000, 5 % × 800 000 = 40 000) → surplus 90 000 t, P(shortfall) 0."""
    from tansuan.views.position import position_report

    _import(store, ledger, FILE)
    with store.write() as conn:
        version = accounts.set_values(conn, ledger, "org", "site", 2022,
                                      {"verified": 800_000}, by="test:vic")  # fmt: skip
    assert version == 2
    with store.read() as conn:
        stored = accounts.load(conn, "org", "site", 2022)
    out = position_report(stored.account, 2022, {"2022-01": 1.0})
    assert out["emissions_basis"] == "verified"
    p = out["position"]
    assert p["obligation"] == 800_000 and p["surplus"] == pytest.approx(90_000)
    assert p["shortfall_probability"] == 0.0
    assert stored.row["change"] == "set verified=800000" and stored.row["changed_by"] == "test:vic"
    with store.write() as conn:
        accounts.set_values(conn, ledger, "org", "site", 2022, {"verified": None}, by="test")
        stored = accounts.load(conn, "org", "site", 2022)
    assert stored.row["version"] == 3 and stored.account.file.verified is None
    # a new year's account from entered values alone
    with store.write() as conn:
        accounts.set_values(conn, ledger, "org", "site", 2021, {"price": 50, "allocation": 7},
                            by="test", entity="plant-1")  # fmt: skip
        assert db.account_years(conn, "org", "site") == [2021, 2022]


def test_another_organisation_neither_reads_nor_writes(store: Store, ledger: Ledger) -> None:
    _import(store, ledger, FILE)
    before = _snapshot(store)
    with store.read() as conn:
        assert db.current_account(conn, "intruder", "site", 2022) is None
        assert db.trades(conn, "intruder", "site", 2022) == []
        with pytest.raises(NotFound):
            accounts.load(conn, "intruder", "site", 2022)
    trade_id = int(before[1][0][0])
    attempts = [
        lambda c: accounts.import_file(c, ledger, "intruder", "site", FILE, by="x", where="f"),
        lambda c: accounts.add_trade(
            c, ledger, "intruder", "site", 2022, FILE["trades"][0], by="x"
        ),  # fmt: skip
        lambda c: accounts.cancel_trade(c, ledger, "intruder", "site", trade_id, by="x"),
        lambda c: accounts.set_values(
            c, ledger, "intruder", "site", 2022, {"banked": 1}, by="x", entity="x"
        ),  # fmt: skip
    ]
    for attempt in attempts:
        with pytest.raises(NotFound), store.write() as conn:
            attempt(conn)
    assert _snapshot(store) == before
