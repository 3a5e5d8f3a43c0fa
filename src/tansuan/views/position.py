"""The compliance position of a site's allowance account: emissions of the year (given,
verified, else the accounting results so far plus their forecast, else the account's
estimate) against its holdings — shared by ``GET /position``, the dashboard, the alerts
and ``tansuan position``.

The arithmetic is :mod:`tansuan.market.position`; the forecast of the year's total is
:func:`tansuan.analytics.forecast.year_outlook`.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from tansuan.analytics.forecast import WorkingDays, year_outlook
from tansuan.errors import InputError, NotFound
from tansuan.market import accounts
from tansuan.market.position import position
from tansuan.views.forecast import LOCATION_BASED, emission_history, last_complete_month


def emissions_so_far(
    connection: Any, site_model: Any, year: int, *, scope: str = LOCATION_BASED
) -> dict[str, float]:
    """The site's monthly tCO2e from January four years before ``year`` up to the last
    complete month (the month under way is left out: its results cover part of it);
    empty when there are none or they have a gap."""
    last = min(f"{year}-12", last_complete_month(ZoneInfo(site_model.timezone)))
    try:
        return emission_history(connection, site_model.id, f"{year - 4}-01", last, scope=scope)
    except (NotFound, InputError):
        return {}


def position_report(
    account: Any,
    year: int,
    history: dict[str, float] | None,
    *,
    price: float | None = None,
    given: tuple[float, float] | None = None,
    working_days: WorkingDays | None = None,
) -> dict[str, Any]:
    """The compliance position of an account (:func:`tansuan.market.accounts.load`): the
    verified emissions once recorded, else the site's accounting results and their forecast
    when ``history`` is given (and long enough), else the account's ``emissions``;
    ``given`` (mean, sd) [t] overrides them all."""
    doc = account.file
    if doc.year != year:
        raise InputError(f"账户年份不符 / the account is for {doc.year}, not {year}", field="year")
    outlook = None
    if history and doc.verified is None and given is None:
        try:
            outlook = year_outlook(list(history), np.array(list(history.values())), year,
                                   working_days=working_days)  # fmt: skip
        except InputError:
            outlook = None
    if given is not None:
        (mean, sd), basis = given, "given"
    elif doc.verified is not None:
        mean, sd, basis = doc.verified, 0.0, "verified"
    elif outlook is not None:
        mean, sd, basis = outlook.mean, outlook.sd, "forecast"
    elif doc.emissions is not None:
        mean, sd, basis = doc.emissions.mean, doc.emissions.sd, "file"
    else:
        raise InputError(
            "没有排放数据 / no emissions: the site has no forecastable results and the account "
            "no verified emissions nor `emissions`",
            field="emissions",
        )
    result = position(mean, sd, account.holdings, account.rules,
                      price=doc.price if price is None else price, gas=doc.gas)  # fmt: skip
    h = account.holdings
    return {
        "entity": doc.entity,
        "year": doc.year,
        "emissions_basis": basis,
        "holdings": h.record(),
        "rules": account.rules.__dict__,
        "trade_cash": account.cash,
        "position": result.__dict__,
        "outlook": None if outlook is None else outlook.__dict__ | {"mean": outlook.mean},
    }


def site_position(
    connection: Any,
    org: str,
    site_model: Any,
    year: int,
    *,
    price: float | None = None,
    given: tuple[float, float] | None = None,
    scope: str = LOCATION_BASED,
    working_days: WorkingDays | None = None,
) -> tuple[accounts.Stored, dict[str, Any]]:
    """The site's stored account for ``year`` and its position (:func:`position_report`),
    the emissions forecast from the site's results (``scope``) unless ``given``.

    Raises
    ------
    NotFound
        The site has no account for ``year``.
    """
    stored = accounts.load(connection, org, site_model.id, year)
    history = {} if given is not None else emissions_so_far(connection, site_model, year,
                                                             scope=scope)  # fmt: skip
    out = position_report(stored.account, year, history, price=price, given=given,
                          working_days=working_days)  # fmt: skip
    return stored, out
