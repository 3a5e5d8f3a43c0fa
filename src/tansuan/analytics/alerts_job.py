"""The alerts job of ``tansuan serve``: evaluate every site's alerts on a schedule,
remember them in the store, deliver the new ones to the webhooks.

Each round (every ``alert_interval_s`` seconds, the first at start) evaluates
:func:`tansuan.views.alerts.site_alerts` (the web app hands it over as
``app.state.site_alerts``: this layer does not import the views) for every site of every
loaded site model (the year is the current one in the site's time zone), stores the outcome
(:mod:`tansuan.store.alert_events`: open, still raised, cleared), then sends each
webhook the open alerts it has not accepted yet — one message per site, in the
webhook's format. A webhook that fails (after ``alert_retries`` retries) is logged and
tried again at the next round; a site whose evaluation fails is logged and skipped.
Nothing in a round stops the server.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from tansuan import clock
from tansuan.analytics.alerts import Alert, Delivery, Webhook, send
from tansuan.errors import ConfigError, InputError, TansuanError
from tansuan.store import alert_events
from tansuan.store.users import now_us

log = logging.getLogger(__name__)

#: ``site_alerts(store, model, site, year, settings)`` → ``{"alerts": [Alert, …], …}``.
SiteAlerts = Callable[[Any, Any, str, int, Any], dict[str, Any]]


@dataclass
class Round:
    """What one round did."""

    started: str
    sites: int = 0
    alerts: int = 0
    errors: list[str] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)


def webhooks(settings: Any) -> list[Webhook]:
    """The configured webhooks; :class:`ConfigError` for a malformed entry."""
    try:
        return [Webhook.parse(h) for h in settings.alert_webhooks]
    except InputError as exc:
        raise ConfigError(str(exc), field="alert_webhooks") from None


def evaluate(
    store: Any, models: list[Any], settings: Any, report: Round, site_alerts: SiteAlerts
) -> None:
    """Evaluate and store the alerts of every site of ``models``."""
    for model in models:
        org = model.organisation.id
        for site in model.sites():
            year = clock.now(ZoneInfo(site.timezone)).year
            try:
                out = site_alerts(store, model, site.id, year, settings)
            except TansuanError as exc:
                log.warning("alerts of %s: %s", site.id, exc)
                report.errors.append(f"{site.id}: {exc}")
                continue
            with store.write() as conn:
                alert_events.record(conn, org, site.id, year, out["alerts"], now_us())
            report.sites += 1
            report.alerts += len(out["alerts"])


def _alert(row: dict[str, Any]) -> Alert:
    return Alert(row["site_key"], row["kind"], row["severity"], row["metric"], row["value"],
                 row["limit_value"], row["unit"], row["zh"], row["en"])  # fmt: skip


def deliver(store: Any, hooks: list[Webhook], settings: Any, report: Round) -> None:
    """Send every webhook the open alerts it has not accepted yet, one message per site."""
    urls = [h.url for h in hooks]
    for hook in hooks:
        with store.read() as conn:
            rows = alert_events.pending(conn, hook.url)
        for site, group in groupby(rows, key=lambda r: r["site_key"]):
            items = list(group)
            done = send(hook, [_alert(r) for r in items], timeout_s=settings.alert_timeout_s,
                        retries=settings.alert_retries)  # fmt: skip
            report.deliveries.append(done)
            ids = [int(r["id"]) for r in items]
            with store.write() as conn:
                if done.ok:
                    alert_events.delivered(conn, ids, hook.url, urls, now_us())
                else:
                    alert_events.failed(conn, ids, hook.url, done.error or "failed")
                    report.errors.append(f"{site} → {hook.url}: {done.error}")


def run_round(store: Any, models: list[Any], settings: Any, site_alerts: SiteAlerts) -> Round:
    """One round: evaluate every site, then deliver (see module docstring)."""
    report = Round(dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    evaluate(store, models, settings, report, site_alerts)
    deliver(store, webhooks(settings), settings, report)
    log.info("alerts round: %d site(s), %d alert(s), %d delivery(ies), %d error(s)",
             report.sites, report.alerts, len(report.deliveries), len(report.errors))  # fmt: skip
    return report


async def run_schedule(app: Any, settings: Any) -> None:
    """Run a round now and then every ``settings.alert_interval_s`` until cancelled, with
    the app's store, models and alerts view (``app.state.site_alerts``); the last round is
    kept in ``app.state.alerts_job`` for the dashboard."""
    state: dict[str, Any] = {"interval_s": settings.alert_interval_s, "last": None}
    app.state.alerts_job = state
    while True:
        models = [a.model for a in app.state.accountants.all().values()]
        try:
            state["last"] = await asyncio.to_thread(run_round, app.state.store, models, settings,
                                                    app.state.site_alerts)  # fmt: skip
        except asyncio.CancelledError:
            raise
        except Exception:  # a round must never stop the server
            log.exception("alerts round failed")
        await asyncio.sleep(settings.alert_interval_s)
