"""Allowance accounts and trades in the store, one organisation at a time.

An account is a site's compliance file for one year: entity, price, gas flag, entered
free allocation, benchmark units, banked allowances, emissions without a forecast,
verified emissions and a rules override. Every change writes a new *version* (the old
one is kept with ``current = false``), with who and when, and appends a ledger leaf of
kind ``allowance``. Trades are appended rows; cancelling one closes it (who, when, its
own leaf) and keeps it.

Tenancy: every function takes the caller's organisation. Reads filter on it; writes
first check that the site belongs to it (:class:`NotFound` otherwise, revealing nothing
about other organisations' sites). The checks of the account's arithmetic (no more sold
than held) are :mod:`tansuan.market.accounts`' job, inside the same transaction.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Connection, select, update

from tansuan.errors import NotFound
from tansuan.store.grants import LedgerLike, site_org
from tansuan.store.schema import allowance_account, allowance_trade
from tansuan.store.users import now_us

#: The ledger leaf kind of every account change and trade.
LEAF_KIND = "allowance"
#: The columns of an account version that make up its content.
FIELDS = (
    "entity", "price", "gas", "allocation_t", "units", "banked_t", "emissions_mean_t",
    "emissions_sd_t", "verified_t", "rules",
)  # fmt: skip
TRADE_FIELDS = ("trade_date", "side", "instrument", "quantity_t", "price", "note")


def check_owner(connection: Connection, org: str, site: str) -> None:
    """:class:`NotFound` unless ``site`` is a current site of ``org``."""
    try:
        owner = site_org(connection, site)
    except NotFound:
        owner = None
    if owner != org:
        raise NotFound(f"没有该站点 / no site {site!r}")


def _row(row: Any) -> dict[str, Any]:
    out = dict(row._mapping)
    for key in ("units", "rules"):
        if key in out and out[key] is not None:
            out[key] = orjson.loads(out[key])
    return out


def current_account(
    connection: Connection, org: str, site: str, year: int
) -> dict[str, Any] | None:
    """The current version of the account, or None."""
    a = allowance_account
    row = connection.execute(
        select(a).where(
            a.c.org_key == org, a.c.site_key == site, a.c.year == year, a.c.current.is_(True)
        )  # fmt: skip
    ).first()
    return None if row is None else _row(row)


def account_versions(
    connection: Connection, org: str, site: str, year: int
) -> list[dict[str, Any]]:
    """Every version of the account, newest first."""
    a = allowance_account
    rows = connection.execute(
        select(a)
        .where(a.c.org_key == org, a.c.site_key == site, a.c.year == year)
        .order_by(a.c.version.desc())
    )
    return [_row(r) for r in rows]


def account_years(connection: Connection, org: str, site: str) -> list[int]:
    """The years the site has an account for, oldest first."""
    a = allowance_account
    rows = connection.execute(
        select(a.c.year)
        .where(a.c.org_key == org, a.c.site_key == site, a.c.current.is_(True))
        .order_by(a.c.year)
    )
    return [int(y) for y in rows.scalars()]


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def write_account(
    connection: Connection, ledger: LedgerLike | None, org: str, site: str, year: int,
    fields: dict[str, Any], *, by: str, change: str,
) -> int | None:  # fmt: skip
    """Make ``fields`` (all of :data:`FIELDS`) the account's new current version.

    Returns the new version number, or None when nothing differs from the current one.
    """
    check_owner(connection, org, site)
    missing = set(FIELDS) - set(fields)
    if missing:
        raise ValueError(f"account fields missing: {sorted(missing)}")
    values = {k: fields[k] for k in FIELDS}
    values["units"] = _json(values["units"] or [])
    values["rules"] = _json(values["rules"])
    a = allowance_account
    now = connection.execute(
        select(a).where(
            a.c.org_key == org, a.c.site_key == site, a.c.year == year, a.c.current.is_(True)
        )  # fmt: skip
    ).first()
    if now is not None and all(getattr(now, k) == values[k] for k in FIELDS):
        return None
    version = 1 if now is None else int(now.version) + 1
    if now is not None:
        connection.execute(update(a).where(a.c.id == now.id).values(current=False))
    at = now_us()
    inserted = connection.execute(
        a.insert().values(org_key=org, site_key=site, year=year, version=version, current=True,
                          changed_at_us=at, changed_by=by, change=change, **values)
    ).inserted_primary_key  # fmt: skip
    row_id = int(inserted[0]) if inserted is not None else 0
    if ledger is not None:
        payload = {"org": org, "site": site, "year": year, "version": version, "by": by,
                   "at_us": at, "change": change} | {
            k: (orjson.loads(v) if k in ("units", "rules") and v is not None else v)
            for k, v in values.items()
        }  # fmt: skip
        leaf = ledger.append(connection, LEAF_KIND, f"allowance/{site}/{year}/v{version}", payload)
        connection.execute(update(a).where(a.c.id == row_id).values(leaf_index=leaf))
    return version


def trades(
    connection: Connection, org: str, site: str, year: int, *, active_only: bool = False
) -> list[dict[str, Any]]:
    """The trades of the account in date order (cancelled ones too unless ``active_only``)."""
    t = allowance_trade
    query = select(t).where(t.c.org_key == org, t.c.site_key == site, t.c.year == year)
    if active_only:
        query = query.where(t.c.cancelled_at_us.is_(None))
    rows = connection.execute(query.order_by(t.c.trade_date, t.c.id))
    return [dict(r._mapping) for r in rows]


def add_trade(
    connection: Connection, ledger: LedgerLike | None, org: str, site: str, year: int,
    trade: dict[str, Any], *, by: str,
) -> int:  # fmt: skip
    """Append a trade (keys :data:`TRADE_FIELDS`); returns its id."""
    check_owner(connection, org, site)
    t = allowance_trade
    at = now_us()
    values = {k: trade[k] for k in TRADE_FIELDS}
    inserted = connection.execute(
        t.insert().values(org_key=org, site_key=site, year=year, entered_at_us=at,
                          entered_by=by, **values)
    ).inserted_primary_key  # fmt: skip
    trade_id = int(inserted[0]) if inserted is not None else 0
    if ledger is not None:
        payload = {"org": org, "site": site, "year": year, "trade_id": trade_id, "by": by,
                   "at_us": at} | values  # fmt: skip
        leaf = ledger.append(connection, LEAF_KIND, f"allowance/{site}/{year}/trade/{trade_id}",
                             payload)  # fmt: skip
        connection.execute(update(t).where(t.c.id == trade_id).values(leaf_index=leaf))
    return trade_id


def cancel_trade(
    connection: Connection, ledger: LedgerLike | None, org: str, site: str, trade_id: int,
    *, by: str,
) -> dict[str, Any]:  # fmt: skip
    """Cancel a trade of the site (kept, marked cancelled); returns it as it was.

    Raises
    ------
    NotFound
        No such trade of that site and organisation, or it is cancelled already.
    """
    check_owner(connection, org, site)
    t = allowance_trade
    row = connection.execute(
        select(t).where(t.c.id == trade_id, t.c.org_key == org, t.c.site_key == site)
    ).first()
    if row is None or row.cancelled_at_us is not None:
        raise NotFound(f"没有该有效交易 / no open trade {trade_id} of {site!r}")
    at = now_us()
    leaf = None
    if ledger is not None:
        leaf = ledger.append(
            connection, LEAF_KIND, f"allowance/{site}/{row.year}/trade/{trade_id}/cancelled",
            {"org": org, "site": site, "year": row.year, "trade_id": trade_id, "by": by,
             "at_us": at},
        )  # fmt: skip
    connection.execute(
        update(t).where(t.c.id == trade_id)
        .values(cancelled_at_us=at, cancelled_by=by, cancel_leaf_index=leaf)
    )  # fmt: skip
    return dict(row._mapping)
