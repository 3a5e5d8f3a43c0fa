"""Filing and proposals for the CLI, the API and the emissions page: each call opens one
transaction, checks that the site is the caller's organisation's, and runs one step of
the four-eyes workflow (:mod:`tansuan.accounting.filing`), which appends its ledger leaf.

Figures are in tonnes; a proposal without a figure (a failed or missing month) shows
``None`` (the pages and the CLI print "—"), never 0.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tansuan.accounting import filing
from tansuan.accounting.periods import parse_period
from tansuan.accounting.rollup import grams_to_tonnes
from tansuan.errors import NotFound
from tansuan.store import Store, schema, users
from tansuan.store.users import Principal

#: How a missing figure is shown (pages, CLI, reports).
NO_FIGURE = "—"


def tonnes_text(value: float | None, fmt: str = ",.3f") -> str:
    """A figure in tonnes for display; "—" when there is none (never "0")."""
    return NO_FIGURE if value is None else format(value, fmt)


def _t(grams: int | None) -> float | None:
    return None if grams is None else grams_to_tonnes(grams)


def principal(store: Store, username: str) -> Principal:
    """The user ``username`` (``--as USER`` of the CLI); NotFound for an unknown one."""
    with store.read() as conn:
        return users.user(conn, users.user_id_by_name(conn, username))


def own_site(conn: sa.Connection, by: Principal, site: str) -> None:
    """NotFound unless ``site`` is a loaded site of the caller's organisation."""
    e = schema.entity
    org = conn.execute(
        sa.select(e.c.org_key).where(
            e.c.kind == "site", e.c.key == site, e.c.retired_at_us.is_(None)
        )
    ).scalar()
    if org is None or org != by.org:
        raise NotFound(f"没有站点 / no site {site!r}")


def months_of(period: str) -> list[str]:
    """The month labels of ``2025``, ``2025-03``, ``2025-Q1`` or ``a..b``."""
    return [m.label for m in parse_period(period).months()]


def proposal_row(p: filing.Proposal) -> dict[str, Any]:
    """One pending proposal as the API, the page and the CLI show it (tonnes)."""
    return {
        **p.as_dict(),
        "co2e_t": _t(p.co2e_g),
        "current_co2e_t": _t(p.current_co2e_g),
        "difference_t": _t(p.difference_g),
    }


def proposals(store: Store, by: Principal, site: str, period: str | None = None) -> dict[str, Any]:
    """Pending proposals and filed months of a site (of the months of ``period``, if given)."""
    months = months_of(period) if period else None
    with store.read() as conn:
        own_site(conn, by, site)
        pending = filing.pending(conn, site, months)
        filed = filing.filed(conn, site, months)
    return {
        "site": site,
        "proposals": [proposal_row(p) for p in pending],
        "filed": [
            {"period": f["period"], "filed_by": f["locked_by"],
             "filed_at": f["locked_at"].isoformat(), "note": f["note"]}
            for f in filed
        ],
    }  # fmt: skip


def file(store: Store, ledger: Any, by: Principal, site: str, period: str, reason: str = "") -> Any:
    with store.write() as conn:
        own_site(conn, by, site)
        return filing.file(conn, ledger, site, months_of(period), by, reason)


def reopen(store: Store, ledger: Any, by: Principal, site: str, period: str, reason: str) -> Any:
    with store.write() as conn:
        own_site(conn, by, site)
        return filing.reopen(conn, ledger, site, months_of(period), by, reason)


def _site_of(conn: sa.Connection, by: Principal, set_id: int) -> None:
    site = conn.execute(
        sa.select(schema.result_sets.c.site_id).where(schema.result_sets.c.id == set_id)
    ).scalar()
    if site is None:
        raise NotFound(f"没有该提议 / no proposal {set_id}")
    try:
        own_site(conn, by, site)
    except NotFound:
        raise NotFound(f"没有该提议 / no proposal {set_id}") from None


def accept(store: Store, ledger: Any, by: Principal, set_id: int, note: str = "") -> dict[str, Any]:
    with store.write() as conn:
        _site_of(conn, by, set_id)
        return proposal_row(filing.accept(conn, ledger, set_id, by, note))


def reject(store: Store, ledger: Any, by: Principal, set_id: int, reason: str) -> dict[str, Any]:
    with store.write() as conn:
        _site_of(conn, by, set_id)
        return proposal_row(filing.reject(conn, ledger, set_id, by, reason))
