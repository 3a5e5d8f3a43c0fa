"""Figures of the dashboard's organisation overview, read through a :class:`Scope`.

Energy today per site [MWh] (sum of the deltas of every energy meter, in the site's
time zone), tCO2e this month against the same month last year, by scope, and the top
sources since the same month last year. Only the caller's own sites are summarised;
sites opened by a grant are listed with a link (their data is read page by page, each
read logged).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection

from tansuan import clock
from tansuan.accounting import results
from tansuan.accounting.problems import PROBLEM_STATES
from tansuan.domain import units
from tansuan.domain.months import index_of, label
from tansuan.domain.scope import in_total
from tansuan.errors import UnitError
from tansuan.store import queries
from tansuan.store.scoped import Scope
from tansuan.store.timeutil import zone

TOP_SOURCES = 5


def _energy_mwh(rows: list[dict[str, Any]]) -> float:
    total = 0.0
    for r in rows:
        try:
            total += r["delta"] * units.factor(r["unit"], "MWh")
        except UnitError:
            continue
    return total


def month_label(day: dt.date, years_back: int = 0) -> str:
    return f"{day.year - years_back:04d}-{day.month:02d}"


def months_since_last_year(day: dt.date) -> list[str]:
    """Labels of the 13 months from the same month last year to ``day``'s month."""
    return [label(index_of(day) - k) for k in range(13)]


def emissions_by_scope(
    connection: Connection, site: str, months: list[str]
) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """({scope: tCO2e}, [{source, co2e_t, result_set}]) of site-months (location-based)."""
    by_scope: dict[str, float] = {}
    by_source: dict[str, dict[str, Any]] = {}
    for line in results.current_lines(connection, site, months):
        if not in_total(line["scope"]):
            continue
        t = line["co2e_g"] / 1e6
        by_scope[line["scope"]] = by_scope.get(line["scope"], 0.0) + t
        entry = by_source.setdefault(
            line["source_id"],
            {"source": line["source_id"], "co2e_t": 0.0, "result_set": line["id"]},
        )
        entry["co2e_t"] += t
    return by_scope, sorted(by_source.values(), key=lambda e: -e["co2e_t"])


def overview(
    connection: Connection, scope: Scope, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The organisation overview of the caller's own sites at ``now`` (default: the
    calendar clock): energy today, this month's tCO2e against the same month last year
    by scope, the top sources; the sites opened by a grant are listed apart."""
    now = now or clock.now()
    sites = scope.sites(connection)
    own = [s for s in sites if s["own"]]
    cards = []
    totals: dict[str, Any] = {
        "energy_today_mwh": 0.0,
        "co2e_month_t": 0.0,
        "co2e_month_last_year_t": 0.0,
        "incomplete": False,
    }
    scopes_total: dict[str, list[float]] = {}
    top: list[dict[str, Any]] = []
    for s in own:
        local = now.astimezone(zone(s["timezone"]))
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        energy = _energy_mwh(
            queries.aggregate(
                connection,
                s["site"],
                None,
                midnight,
                max(now, midnight + dt.timedelta(seconds=1)),
                "day",
                quantity="energy",
            )
        )
        this_month = month_label(local.date())
        by_scope, _ = emissions_by_scope(connection, s["site"], [this_month])
        last_scope, _ = emissions_by_scope(connection, s["site"], [month_label(local.date(), 1)])
        _, sources = emissions_by_scope(connection, s["site"], months_since_last_year(local.date()))
        co2e, co2e_last = sum(by_scope.values()), sum(last_scope.values())
        # failed or missing source-months: this month's figure leaves them out
        unresolved = sorted(
            {
                str(p["source_id"])
                for p in results.problem_sets(connection, s["site"], [this_month])
                if p["state"] in PROBLEM_STATES
            }
        )
        cards.append(
            {
                **s,
                "energy_today_mwh": energy,
                "month": this_month,
                "co2e_month_t": co2e,
                "co2e_month_last_year_t": co2e_last,
                "by_scope": by_scope,
                "incomplete_sources": unresolved,
            }
        )
        totals["incomplete"] = bool(totals.get("incomplete")) or bool(unresolved)
        totals["energy_today_mwh"] += energy
        totals["co2e_month_t"] += co2e
        totals["co2e_month_last_year_t"] += co2e_last
        for k, v in by_scope.items():
            scopes_total.setdefault(k, [0.0, 0.0])[0] += v
        for k, v in last_scope.items():
            scopes_total.setdefault(k, [0.0, 0.0])[1] += v
        top.extend({**x, "site": s["site"]} for x in sources)
    top.sort(key=lambda e: -e["co2e_t"])
    return {
        "sites": cards,
        "shared": [s for s in sites if not s["own"]],
        "totals": totals,
        "by_scope": dict(sorted(scopes_total.items())),
        "top_sources": top[:TOP_SOURCES],
    }
