"""``/api/v1/allowance``: a site's allowance account in the store.

* ``GET /allowance?site&year`` — the account (current version, holdings, allocation by
  unit, every trade with who entered or cancelled it) and its earlier versions.
* ``POST /allowance/trades?site&year`` — add a trade (JSON ``{date, side, instrument,
  quantity, price, note}``); ``POST /allowance/trades/{id}/cancel?site`` — cancel one.
* ``POST /allowance/values?site&year`` — set entered allocation, verified emissions,
  banked allowances, price (JSON; ``verified: null`` clears them).

Only the site's own organisation: the account is commercial data no share grant opens.
Reading needs the ``read`` permission; changing it an administrator or an energy manager
(the ``ingest`` permission, as for manual data). Every change is a new version or trade
row with who and when, and a ledger leaf (kind ``allowance``) in the same transaction;
a refused change leaves everything stored as it was.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from tansuan.errors import InputError, NotFound, PermissionDenied
from tansuan.market import accounts
from tansuan.store import market as db
from tansuan.store.scoped import Scope
from tansuan.web.deps import IdPath, LedgerDep, ScopeDep, StoreDep
from tansuan.web.responses import JSONBytes
from tansuan.web.schemas import AccountOut, TradeAdded

router = APIRouter(prefix="/api/v1", tags=["market / 碳市场"])


class TradeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: str
    side: str
    instrument: str
    quantity: float
    price: float
    note: str = ""


class ValuesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    allocation: float | None = None
    verified: float | None = None
    banked: float | None = None
    price: float | None = None
    clear_verified: bool = False
    entity: str | None = None


def own_org(connection: Any, scope: Scope, site: str) -> str:
    """The caller's organisation when ``site`` is one of its sites, else NotFound."""
    scope.require("read")
    db.check_owner(connection, scope.org, site)
    return scope.org


def require_writer(scope: Scope) -> None:
    """Administrators and energy managers (with the ``ingest`` permission) change accounts."""
    principal = scope.principal
    if principal.role not in ("admin", "energy_manager") or not principal.can("ingest"):
        raise PermissionDenied(
            "仅管理员或能源管理员 / only administrators and energy managers change accounts"
        )


def who(scope: Scope) -> str:
    return f"user:{scope.principal.username}"


def account_data(store: Any, scope: Scope, site: str, year: int | None) -> dict[str, Any]:
    """The account answer (shared by the API and the position page)."""
    with store.read() as conn:
        org = own_org(conn, scope, site)
        if year is None:
            years = db.account_years(conn, org, site)
            if not years:
                raise NotFound(f"站点 {site} 没有配额账户 / {site} has no allowance account")
            year = years[-1]
        stored = accounts.load(conn, org, site, year)
        versions = db.account_versions(conn, org, site, year)
    out = accounts.record(stored)
    out["versions"] = [
        {"version": v["version"], "changed_at": accounts._iso(v["changed_at_us"]),
         "changed_by": v["changed_by"], "change": v["change"], "leaf_index": v["leaf_index"]}
        for v in versions
    ]  # fmt: skip
    return out


@router.get("/allowance", summary="A site's allowance account / 配额账户", response_class=JSONBytes,
            response_model=AccountOut)  # fmt: skip
def get_account(
    store: StoreDep,
    scope: ScopeDep,
    site: Annotated[str, Query(description="site id")],
    year: Annotated[int | None, Query(ge=2000, le=2100, description="default: latest")] = None,
) -> JSONBytes:
    """The current account with its holdings, allocation by unit, every trade (cancelled
    ones marked) and the list of versions with who changed what."""
    return JSONBytes(account_data(store, scope, site, year))


def add_trade(
    store: Any, ledger: Any, scope: Scope, site: str, year: int, body: dict[str, Any]
) -> int:
    """Add a trade as the caller (shared by the API and the position page's form)."""
    require_writer(scope)
    note = str(body.pop("note", "") or "")
    with store.write() as conn:
        org = own_org(conn, scope, site)
        return accounts.add_trade(conn, ledger, org, site, year, body, by=who(scope), note=note)


@router.post("/allowance/trades", summary="Add a trade / 新增配额交易", response_class=JSONBytes,
             response_model=TradeAdded, status_code=201)  # fmt: skip
def post_trade(
    store: StoreDep,
    scope: ScopeDep,
    ledger: LedgerDep,
    site: Annotated[str, Query(description="site id")],
    year: Annotated[int, Query(ge=2000, le=2100, description="compliance year")],
    body: TradeBody,
) -> JSONBytes:
    """A buy or sell of CEA or CCER (quantity [t], price [money/t]); refused with nothing
    stored when a field is wrong (422, every issue listed) or the sale exceeds what is
    held (400)."""
    trade_id = add_trade(store, ledger, scope, site, year, body.model_dump())
    return JSONBytes(account_data(store, scope, site, year) | {"trade_id": trade_id},
                     status_code=201)  # fmt: skip


@router.post("/allowance/trades/{trade_id}/cancel", summary="Cancel a trade / 撤销配额交易",
             response_class=JSONBytes, response_model=AccountOut)  # fmt: skip
def post_cancel(
    store: StoreDep,
    scope: ScopeDep,
    ledger: LedgerDep,
    trade_id: IdPath,
    site: Annotated[str, Query(description="site id")],
) -> JSONBytes:
    """The trade stays, marked cancelled (who, when, its ledger leaf)."""
    row = cancel(store, ledger, scope, site, trade_id)
    return JSONBytes(account_data(store, scope, site, int(row["year"])))


def cancel(store: Any, ledger: Any, scope: Scope, site: str, trade_id: int) -> dict[str, Any]:
    """Cancel a trade as the caller (shared by the API and the position page)."""
    require_writer(scope)
    with store.write() as conn:
        org = own_org(conn, scope, site)
        return accounts.cancel_trade(conn, ledger, org, site, trade_id, by=who(scope))


def set_values(
    store: Any, ledger: Any, scope: Scope, site: str, year: int, body: ValuesBody
) -> int | None:
    require_writer(scope)
    values: dict[str, float | None] = {
        k: v for k, v in (("allocation", body.allocation), ("verified", body.verified),
                          ("banked", body.banked), ("price", body.price)) if v is not None
    }  # fmt: skip
    if body.clear_verified:
        values["verified"] = None
    if not values and body.entity is None:
        raise InputError("没有要修改的值 / nothing to set", field="body")
    with store.write() as conn:
        org = own_org(conn, scope, site)
        return accounts.set_values(conn, ledger, org, site, year, values, by=who(scope),
                                   entity=body.entity)  # fmt: skip


@router.post("/allowance/values", summary="Set entered values / 录入配额账户数值",
             response_class=JSONBytes, response_model=AccountOut)  # fmt: skip
def post_values(
    store: StoreDep,
    scope: ScopeDep,
    ledger: LedgerDep,
    site: Annotated[str, Query(description="site id")],
    year: Annotated[int, Query(ge=2000, le=2100, description="compliance year")],
    body: ValuesBody,
) -> JSONBytes:
    """Entered free allocation [t], verified emissions [t] (``clear_verified`` forgets
    them), banked allowances [t], price [money/t]; with ``entity`` (and ``price``) an
    account is created for a year that has none."""
    set_values(store, ledger, scope, site, year, body)
    return JSONBytes(account_data(store, scope, site, year))
