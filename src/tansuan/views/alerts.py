"""The alerts of a site for a year: the facts they are judged on (this month's and the
year's projected emissions, the year's energy [tce] against the site's budget, the
allowance shortfall) and the alerts those facts raise — shared by ``GET /alerts``, the
dashboard, ``tansuan alerts`` and the server's alerts job.

The rules are :mod:`tansuan.analytics.alerts`; the energy in tce is computed as the
energy report computes it (:func:`tansuan.reports.energy.month_uses`).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from tansuan.analytics import alerts
from tansuan.analytics.findings import ShiftCalendar
from tansuan.analytics.forecast import WorkingDays, year_outlook
from tansuan.domain.catalog import shipped_catalog
from tansuan.errors import InputError, NotFound, TansuanError
from tansuan.market import accounts
from tansuan.reports.energy import month_uses
from tansuan.reports.gather import gather
from tansuan.views.forecast import last_complete_month
from tansuan.views.position import emissions_so_far, position_report


def energy_history_tce(
    store: Any, model: Any, site: str, first_year: int, year: int
) -> dict[str, float]:
    """Monthly comprehensive energy [tce] (GB/T 2589 calorific equivalent) of a site from the
    activity data of its accounting results, as the energy report computes it."""
    catalog = shipped_catalog()
    out: dict[str, float] = {}
    for y in range(first_year, year + 1):
        try:
            inputs = gather(store, model, site, y)
        except TansuanError:
            continue
        for use in month_uses(inputs, catalog):
            if use.tce is not None:
                out[use.month] = out.get(use.month, 0.0) + use.tce
    return dict(sorted(out.items()))


def _year_projection(
    history: dict[str, float], year: int, working_days: WorkingDays | None = None
) -> tuple[float | None, float]:
    """Projected total of ``year`` and its sd: the forecast outlook when the history is
    consecutive and long enough, else the run rate of the months of the year so far."""
    in_year = {m: v for m, v in history.items() if m.startswith(f"{year}-")}
    if not in_year:
        return None, 0.0
    try:
        outlook = year_outlook(list(history), np.array(list(history.values())), year,
                               working_days=working_days)  # fmt: skip
        return outlook.mean, outlook.sd
    except InputError:
        return sum(in_year.values()) * 12.0 / len(in_year), 0.0


def site_alerts(store: Any, model: Any, site: str, year: int, settings: Any) -> dict[str, Any]:
    """The facts of a site for ``year`` and the alerts they raise (see
    :mod:`tansuan.analytics.alerts`); the position is included when the site has an
    allowance account for the year."""
    site_model = model.site(site)
    thresholds = [alerts.Threshold.parse(t) for t in settings.alert_thresholds]
    days = ShiftCalendar.from_text(settings.shift_calendar).working_days
    last = min(f"{year}-12", last_complete_month(ZoneInfo(site_model.timezone)))
    with store.read() as conn:
        emissions = emissions_so_far(conn, site_model, year)
    energy = {m: v for m, v in energy_history_tce(store, model, site, year - 4, year).items()
              if m <= last}  # fmt: skip
    year_tco2e, _ = _year_projection(emissions, year, days)
    year_tce, tce_sd = _year_projection(energy, year, days)
    facts: dict[str, float | None] = {
        "month_tco2e": emissions[max(emissions)] if emissions else None,
        "year_tco2e": year_tco2e,
        "year_tce": year_tce,
        "year_tce_sd": tce_sd,
        "shortfall_t": None,
        "shortfall_probability": None,
    }
    position = None
    with store.read() as conn:
        try:
            stored = accounts.load(conn, model.organisation.id, site, year)
        except NotFound:
            stored = None
    if stored is not None:
        position = position_report(stored.account, year, emissions, working_days=days)["position"]
        facts["shortfall_t"] = position["shortfall"]
        facts["shortfall_probability"] = position["shortfall_probability"]
    found = alerts.evaluate(site, facts, budget_tce=site_model.energy_budget_tce,
                            position=position, thresholds=thresholds,
                            margin_pct=settings.alert_margin_pct)  # fmt: skip
    return {
        "site": site,
        "year": year,
        "facts": facts,
        "budget_tce": site_model.energy_budget_tce,
        "alerts": found,
    }
