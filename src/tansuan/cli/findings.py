"""CLI ``tansuan findings``: off-shift running, idling and peer outliers of a site's devices.

Each device's hourly energy comes from the store: an energy point (``total`` or
``total_increasing``, converted to kWh) or else a power point (hourly mean, kW → kWh per
hour). Idling needs the device's ``rated_power_kw`` in the site model. Devices with a
production point (quantity ``production`` or ``output``) are compared with the other devices
of their class (at least 3) on specific consumption [kWh per unit output]. Findings are valued
per year and ranked by cost (:func:`tansuan.views.findings.site_findings`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import typer
from rich.table import Table

from tansuan.cli.app import console, fail
from tansuan.errors import InputError, TansuanError

if TYPE_CHECKING:
    from tansuan.analytics.findings import ShiftCalendar


def _calendar(items: list[str]) -> ShiftCalendar:
    from tansuan.analytics.findings import ShiftCalendar

    spec: dict[str, str] = {}
    for item in items:
        days, sep, hours = item.partition("=")
        if not sep:
            raise InputError(f"calendar {item!r} must look like mon-fri=08-18", field="calendar")
        spec[days.strip()] = hours.strip()
    if not spec:
        raise InputError("give at least one --calendar, e.g. mon-fri=08-18", field="calendar")
    return ShiftCalendar.parse(spec)


def findings(
    site: str = typer.Option(..., "--site", help="site id"),
    start: str = typer.Option(..., "--from", help="first day YYYY-MM-DD"),
    end: str = typer.Option(..., "--to", help="day after the last YYYY-MM-DD"),
    calendar: list[str] = typer.Option(
        ..., "--calendar", help="shift hours, e.g. mon-fri=08-18 (repeatable; at least one)"
    ),
    tariff: float | None = typer.Option(
        None, "--tariff", help="energy tariff [money/kWh] (default: TANSUAN_ENERGY_TARIFF)"
    ),
    factor: float | None = typer.Option(
        None,
        "--factor-t-per-mwh",
        help="emission factor [tCO2/MWh] (default: TANSUAN_FINDINGS_FACTOR_T_PER_MWH, else "
        "the shipped national grid factor)",
    ),
    carbon_price: float | None = typer.Option(
        None,
        "--carbon-price",
        min=0,
        help="carbon price [money/tCO2] (default: TANSUAN_CARBON_PRICE, as on the dashboard)",
    ),
    standby_kw: float = typer.Option(0.0, "--standby-kw", help="draw tolerated off shift [kW]"),
    idle_fraction: float = typer.Option(
        0.2, "--idle-fraction", help="idle below this share of rated power"
    ),
    peer_tolerance: float = typer.Option(
        0.2, "--peer-tolerance", help="flag specific consumption this far above the class median"
    ),
    baseline_days: int = typer.Option(
        56,
        "--baseline-days",
        min=0,
        help="days before --from that make each device's degradation baseline (0: none)",
    ),
    model_file: Path | None = typer.Option(
        None, "--model", help="site-model YAML (default: stored)"
    ),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Devices off shift, idling, far from their peers or degrading, and zones heated and
    cooled at once, ranked by yearly cost / 低效设备排名."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from tansuan.settings import get_settings
    from tansuan.site.validate import load
    from tansuan.store import Store
    from tansuan.store.documents import current_model
    from tansuan.views.findings import cli_record, pick_valuation, site_findings

    store = None
    try:
        cal = _calendar(calendar)
        try:
            lo_d, hi_d = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
        except ValueError:
            raise InputError("--from and --to must be dates YYYY-MM-DD", field="from") from None
        # The dashboard's defaults: tariff, factor and carbon price from the Settings.
        value, factor_source = pick_valuation(get_settings(), tariff, factor, carbon_price, lo_d)
        store = Store()
        model = load(model_file) if model_file is not None else current_model(store)
        site_model = model.site(site)
        devices = [d for _, d in site_model.iter_devices()]
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=console, transient=True) as bar, store.read() as connection:
            task = bar.add_task("设备 / devices", total=len(devices))
            ranked, _ = site_findings(
                connection, site_model, lo_d, hi_d, cal, value,
                standby_kw=standby_kw, idle_fraction=idle_fraction, peer_tolerance=peer_tolerance,
                baseline_days=baseline_days, advance=lambda: bar.advance(task),
            )  # fmt: skip
    except TansuanError as error:
        fail(error, code=1)
    finally:
        if store is not None:
            store.close()
    out: list[dict[str, Any]] = [cli_record(c) for c in ranked]
    if as_json:
        typer.echo(
            orjson.dumps(
                {
                    "site": site,
                    "factor_t_per_mwh": value.factor_t_per_mwh,
                    "carbon_price": value.carbon_price,
                    "factor_source": factor_source,
                    "findings": out,
                },
                option=orjson.OPT_INDENT_2,
            ).decode()
        )
        return
    if not out:
        console.print("没有发现 / no findings")
        return
    table = Table(
        "设备 / device", "类型 / kind", "kWh/a", "tCO2e/a", "费用 / cost/a", "说明 / detail"
    )
    for row in out:
        table.add_row(
            row["device"],
            row["kind"],
            f"{row['annual_kwh']:,.0f}",
            f"{row['annual_tco2e']:,.2f}",
            f"{row['annual_cost']:,.0f}",
            row["message"],
        )
    console.print(table)
