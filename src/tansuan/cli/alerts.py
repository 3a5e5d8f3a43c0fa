"""CLI ``tansuan alerts``: a site's alerts for the year, optionally sent to the webhooks."""

from __future__ import annotations

from contextlib import closing
from dataclasses import asdict

import orjson
import typer
from rich.table import Table

from tansuan.cli.app import console, failing
from tansuan.errors import NotFound, TansuanError


def alerts(
    site: str = typer.Option(..., "--site", help="site id"),
    year: int | None = typer.Option(None, "--year", help="year (default: this year)"),
    send: bool = typer.Option(False, "--send", help="send to TANSUAN_ALERT_WEBHOOKS"),
    resend: bool = typer.Option(
        False, "--resend", help="with --send: also send the alerts sent before"
    ),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Energy-budget, allowance and threshold alerts of a site / 能耗预算、配额与阈值告警.

    Rules come from the settings (TANSUAN_ALERT_MARGIN_PCT, TANSUAN_ALERT_THRESHOLDS) and
    the site model (energy_budget_tce); the allowance position from the site's allowance
    account (`tansuan position`). With --send, the alerts not sent before (remembered in
    <data_dir>/alerts-sent.json until they clear) go to every TANSUAN_ALERT_WEBHOOKS entry
    (json, wecom, dingtalk, feishu); a failed delivery is reported, and the exit code is 3.
    A server started with the `alerts` service (TANSUAN_SERVE_SERVICES) does this by
    itself on a schedule and remembers what it sent in the store.
    """
    from zoneinfo import ZoneInfo

    from tansuan import clock
    from tansuan.analytics.alerts import Alert, SentLog, Webhook, deliver
    from tansuan.settings import get_settings
    from tansuan.store import Store
    from tansuan.store.models import models_by_org
    from tansuan.views.alerts import site_alerts

    settings = get_settings()
    with failing(code=1) as opened:
        hooks = [Webhook.parse(h) for h in settings.alert_webhooks]
        if send and not hooks:
            raise TansuanError("没有配置 webhook / set TANSUAN_ALERT_WEBHOOKS to send alerts")
        store = opened.enter_context(closing(Store(settings=settings)))
        with store.read() as connection:
            models = models_by_org(connection)
        model = next((m for m in models.values() if any(x.id == site for x in m.sites())), None)
        if model is None:
            raise NotFound(f"没有站点 / no site {site!r} in any loaded site model")
        zone_year = year or clock.now(ZoneInfo(model.site(site).timezone)).year
        with console.status("评估告警 / evaluating alerts …"):
            out = site_alerts(store, model, site, zone_year, settings)
        deliveries = []
        fresh: list[Alert] = []
        if send:
            log = SentLog(settings.data_dir / "alerts-sent.json")
            fresh = list(out["alerts"]) if resend else log.new(zone_year, out["alerts"])
            with console.status("发送告警 / sending alerts …"):
                deliveries = deliver(fresh, hooks, timeout_s=settings.alert_timeout_s,
                                     retries=settings.alert_retries)  # fmt: skip
            delivered = fresh if any(d.ok for d in deliveries) else []
            log.update(site, zone_year, out["alerts"], delivered)
    if as_json:
        body = out | {
            "alerts": [asdict(a) for a in out["alerts"]],
            "sent": [asdict(a) for a in fresh],
            "deliveries": [asdict(d) for d in deliveries],
        }
        typer.echo(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode())
    else:
        if not out["alerts"]:
            console.print(f"{site} {zone_year}: 无告警 / no alerts")
        else:
            table = Table("级别 / severity", "告警 / alert", title=f"{site} {zone_year}")
            for a in out["alerts"]:
                table.add_row(a.severity, a.text)
            console.print(table)
        if send and out["alerts"] and not fresh:
            console.print("已发送过，未重复发送 / already sent before: nothing sent (--resend)")
        for d in deliveries:
            state = "✓" if d.ok else f"✗ {d.error}"
            console.print(f"webhook {d.format} {d.url}: {state} ({d.attempts} 次 / attempts)")
    if any(not d.ok for d in deliveries):
        raise typer.Exit(3)
