"""Allowance accounts kept in the store: import, trades, entered values, and the
:class:`~tansuan.market.holdings.Account` the position is computed from.

Every function works inside the caller's write transaction (``store.write()``): it
stores the change (:mod:`tansuan.store.market`: a new account version or a trade row,
each with a ledger leaf), then rebuilds the account from what is now stored and checks it
(:func:`tansuan.market.holdings.account_from`: schema, no more CEA or CCER sold than
held). A check that fails raises, the transaction rolls back, and nothing stored changes.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from tansuan.errors import InputError, Issue, NotFound, ValidationFailed
from tansuan.market.holdings import Account, ComplianceFile, EmissionsIn, TradeIn, account_from
from tansuan.store import market as db
from tansuan.store.grants import LedgerLike


def _fields(doc: ComplianceFile) -> dict[str, Any]:
    return {
        "entity": doc.entity,
        "price": doc.price,
        "gas": doc.gas,
        "allocation_t": doc.allocation,
        "units": [u.model_dump() for u in doc.units],
        "banked_t": doc.banked,
        "emissions_mean_t": doc.emissions.mean if doc.emissions else None,
        "emissions_sd_t": doc.emissions.sd if doc.emissions else None,
        "verified_t": doc.verified,
        "rules": doc.rules.model_dump() if doc.rules else None,
    }


def _trade(trade: TradeIn, note: str = "") -> dict[str, Any]:
    return {"trade_date": trade.date.isoformat(), "side": trade.side,
            "instrument": trade.instrument, "quantity_t": trade.quantity, "price": trade.price,
            "note": note}  # fmt: skip


def document(row: dict[str, Any], trades: list[dict[str, Any]]) -> dict[str, Any]:
    """A stored account version and its open trades in the compliance-file form."""
    mean = row["emissions_mean_t"]
    return {
        "entity": row["entity"],
        "year": row["year"],
        "price": row["price"],
        "gas": bool(row["gas"]),
        "emissions": None if mean is None else {"mean": mean, "sd": row["emissions_sd_t"] or 0.0},
        "verified": row["verified_t"],
        "allocation": row["allocation_t"],
        "units": row["units"] or [],
        "banked": row["banked_t"],
        "trades": [
            {
                "date": t["trade_date"],
                "side": t["side"],
                "instrument": t["instrument"],
                "quantity": t["quantity_t"],
                "price": t["price"],
            }
            for t in trades
            if t["cancelled_at_us"] is None
        ],  # fmt: skip
        "rules": row["rules"],
    }


@dataclass(frozen=True)
class Stored:
    """An account as stored: the current version, every trade, and the checked account."""

    site: str
    row: dict[str, Any]
    trades: list[dict[str, Any]]
    account: Account


def load(connection: Any, org: str, site: str, year: int) -> Stored:
    """The site's account for ``year``.

    Raises
    ------
    NotFound
        The site is not the organisation's, or it has no account for that year.
    """
    db.check_owner(connection, org, site)
    row = db.current_account(connection, org, site, year)
    if row is None:
        raise NotFound(
            f"站点 {site} 没有 {year} 年的配额账户 / no allowance account of {site} for {year}: "
            f"`tansuan position import FILE.yaml --site {site}`"
        )
    trades = db.trades(connection, org, site, year)
    account = account_from(document(row, trades), where=f"account {site} {year}")
    return Stored(site, row, trades, account)


def parse(raw: Any, where: str) -> ComplianceFile:
    """Check a parsed compliance file (every issue listed) and its holdings."""
    account = account_from(raw, where=where)
    return account.file


def import_file(
    connection: Any, ledger: LedgerLike | None, org: str, site: str, raw: Any, *,
    by: str, where: str,
) -> dict[str, Any]:  # fmt: skip
    """Make the file the site's account for the file's year: a new version when the
    values differ, the file's trades added and open trades not in the file cancelled
    (importing the same file again changes nothing). Returns what changed."""
    doc = parse(raw, where)
    version = db.write_account(connection, ledger, org, site, doc.year, _fields(doc), by=by,
                               change=f"import {where}")  # fmt: skip
    # A trade is matched on what the file says (date, side, instrument, quantity, price):
    # a note entered later does not make it a different trade.
    same = [k for k in db.TRADE_FIELDS if k != "note"]
    wanted = Counter(tuple(_trade(t)[k] for k in same) for t in doc.trades)
    cancelled = 0
    for t in db.trades(connection, org, site, doc.year, active_only=True):
        key = tuple(t[k] for k in same)
        if wanted[key] > 0:
            wanted[key] -= 1
        else:
            db.cancel_trade(connection, ledger, org, site, int(t["id"]), by=by)
            cancelled += 1
    added = 0
    for key, count in wanted.items():
        for _ in range(count):
            trade = dict(zip(same, key, strict=True)) | {"note": ""}
            db.add_trade(connection, ledger, org, site, doc.year, trade, by=by)
            added += 1
    stored = load(connection, org, site, doc.year)
    return {"site": site, "entity": doc.entity, "year": doc.year, "version": version,
            "trades_added": added, "trades_cancelled": cancelled,
            "free_allocation_t": stored.account.free_allocation}  # fmt: skip


def _issues(exc: ValidationError, what: str) -> ValidationFailed:
    issues = [Issue(str(e["type"]), ".".join(str(p) for p in e["loc"]), str(e["msg"]))
              for e in exc.errors()]  # fmt: skip
    return ValidationFailed(issues, what=what)


def add_trade(
    connection: Any, ledger: LedgerLike | None, org: str, site: str, year: int,
    raw: dict[str, Any], *, by: str, note: str = "",
) -> int:  # fmt: skip
    """Add a trade ``{date, side, instrument, quantity, price}`` to the year's account.

    Raises
    ------
    ValidationFailed
        A field is missing or wrong (every issue listed).
    InputError
        The trade sells more than is held.
    NotFound
        No account for that site and year.
    """
    try:
        trade = TradeIn.model_validate(raw)
    except ValidationError as exc:
        raise _issues(exc, "trade") from None
    load(connection, org, site, year)
    trade_id = db.add_trade(connection, ledger, org, site, year, _trade(trade, note), by=by)
    load(connection, org, site, year)  # refuses a sale of more than is held
    return trade_id


def cancel_trade(
    connection: Any, ledger: LedgerLike | None, org: str, site: str, trade_id: int, *, by: str
) -> dict[str, Any]:
    """Cancel a trade (a cancelled buy must not leave more sold than held)."""
    row = db.cancel_trade(connection, ledger, org, site, trade_id, by=by)
    load(connection, org, site, int(row["year"]))
    return row


#: The values ``set_values`` may change, with the column each is stored in.
SETTABLE = {
    "allocation": "allocation_t",
    "verified": "verified_t",
    "banked": "banked_t",
    "price": "price",
    "emissions": "emissions_mean_t",
    "emissions_sd": "emissions_sd_t",
}


def set_values(
    connection: Any, ledger: LedgerLike | None, org: str, site: str, year: int,
    values: dict[str, float | None], *, by: str, entity: str | None = None,
) -> int | None:  # fmt: skip
    """Set entered values of the year's account (a new version); ``verified: None`` clears
    the verified emissions. Creates the account when it has none and ``entity`` is given
    (then ``price`` is required). Returns the new version, None when nothing changed.

    Raises
    ------
    InputError
        An unknown name or a negative value.
    """
    unknown = set(values) - set(SETTABLE)
    if unknown:
        raise InputError(f"unknown value(s) {sorted(unknown)}; use {sorted(SETTABLE)}",
                         field=sorted(unknown)[0])  # fmt: skip
    for name, value in values.items():
        if value is not None and (value != value or value < 0):
            raise InputError(f"{name} must be a number ≥ 0 / {name} 须为非负数", field=name)
        if value is None and name not in ("verified", "emissions", "emissions_sd"):
            raise InputError(f"{name} cannot be cleared / {name} 不能清空", field=name)
    db.check_owner(connection, org, site)
    row = db.current_account(connection, org, site, year)
    if row is None:
        if entity is None:
            load(connection, org, site, year)  # raises NotFound with the hint
        if values.get("price") is None:
            raise InputError("新账户需要价格 / a new account needs a price", field="price")
        row = {"entity": entity, "year": year, "price": 0.0, "gas": False, "allocation_t": 0.0,
               "units": [], "banked_t": 0.0, "emissions_mean_t": None, "emissions_sd_t": None,
               "verified_t": None, "rules": None}  # fmt: skip
    fields = {k: row[k] for k in db.FIELDS}
    if entity is not None:
        fields["entity"] = entity
    for name, value in values.items():
        fields[SETTABLE[name]] = value
    if fields["emissions_mean_t"] is None:
        fields["emissions_sd_t"] = None
    elif fields["emissions_sd_t"] is None:
        fields["emissions_sd_t"] = 0.0
    if fields["emissions_mean_t"] is not None:
        EmissionsIn(mean=fields["emissions_mean_t"], sd=fields["emissions_sd_t"])
    change = "set " + ", ".join(f"{k}={v}" for k, v in sorted(values.items()))
    version = db.write_account(connection, ledger, org, site, year, fields, by=by, change=change)
    load(connection, org, site, year)
    return version


def record(stored: Stored) -> dict[str, Any]:
    """An account as JSON: the current values, holdings, allocation by unit, trades."""
    a = stored.account
    row = stored.row
    h = a.holdings
    return {
        "site": stored.site,
        "entity": row["entity"],
        "year": row["year"],
        "version": row["version"],
        "changed_at": _iso(row["changed_at_us"]),
        "changed_by": row["changed_by"],
        "change": row["change"],
        "price": row["price"],
        "gas": bool(row["gas"]),
        "allocation_entered_t": row["allocation_t"],
        "allocation": [
            {"unit": x.unit, "total_t": x.total_t, "factors": x.factors, "confidence": x.confidence}
            for x in a.allocations
        ],  # fmt: skip
        "free_allocation_t": a.free_allocation,
        "banked_t": row["banked_t"],
        "verified_t": row["verified_t"],
        "emissions": None
        if row["emissions_mean_t"] is None
        else {"mean": row["emissions_mean_t"], "sd": row["emissions_sd_t"]},
        "rules": a.rules.__dict__,
        "holdings": h.record(),
        "trade_cash": a.cash,
        "trades": [
            {
                "id": t["id"],
                "date": t["trade_date"],
                "side": t["side"],
                "instrument": t["instrument"],
                "quantity_t": t["quantity_t"],
                "price": t["price"],
                "note": t["note"],
                "entered_at": _iso(t["entered_at_us"]),
                "entered_by": t["entered_by"],
                "leaf_index": t["leaf_index"],
                "cancelled_at": _iso(t["cancelled_at_us"]),
                "cancelled_by": t["cancelled_by"],
            }
            for t in stored.trades
        ],  # fmt: skip
        "leaf_index": row["leaf_index"],
    }


def _iso(us: int | None) -> str | None:
    if us is None:
        return None
    return dt.datetime.fromtimestamp(us / 1e6, dt.UTC).isoformat(timespec="seconds")
