"""CLI ``tansuan enpi``: energy performance indicators of a site and its lines."""

from __future__ import annotations

import datetime as dt
from contextlib import closing

import orjson
import typer
from rich.table import Table

from tansuan.cli.app import console, failing
from tansuan.errors import InputError


def _day(text: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{text!r} is not a date YYYY-MM-DD", field=field) from None


def enpi(
    site: str = typer.Option(..., "--site", help="site id"),
    start: str = typer.Option(..., "--from", help="first day YYYY-MM-DD"),
    end: str = typer.Option(..., "--to", help="day after the last YYYY-MM-DD"),
    baseline_end: str = typer.Option(
        ..., "--baseline-end", help="first reporting day YYYY-MM-DD (the baseline is before)"
    ),
    calendar: str | None = typer.Option(
        None, "--calendar", help="shift calendar (default: TANSUAN_SHIFT_CALENDAR)"
    ),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Energy performance indicators per line and site (ISO 50006) / 能效指标.

    Monthly energy, specific consumption where the output is known, and the normalised
    EnPI: the reporting days' energy over what a working-day baseline fitted before
    --baseline-end expects for them (below 1 is an improvement).
    """
    from tansuan.analytics.findings import ShiftCalendar
    from tansuan.settings import get_settings
    from tansuan.store import Store
    from tansuan.store.documents import current_model
    from tansuan.views.enpi import enpi_report

    with failing(code=1) as opened:
        lo, hi, cut = _day(start, "from"), _day(end, "to"), _day(baseline_end, "baseline-end")
        cal = ShiftCalendar.from_text(calendar or get_settings().shift_calendar)
        store = opened.enter_context(closing(Store()))
        site_model = current_model(store).site(site)
        with console.status("计算能效指标 / computing the EnPIs …"), store.read() as connection:
            out = enpi_report(connection, site_model, lo, hi, cut, cal)
    if as_json:
        typer.echo(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode())
        return
    table = Table("对象 / boundary", "归一化 / normalised", "月份 / month", "kWh",
                  "单耗 / specific", title=f"{site} {lo} … {hi}")  # fmt: skip
    for node in out["nodes"]:
        normalised = "—" if node["normalised"] is None else f"{node['normalised']:.3f}"
        for i, row in enumerate(node["months"]):
            specific = row["specific"]
            table.add_row(
                node["node"] if i == 0 else "",
                normalised if i == 0 else "",
                row["month"],
                f"{row['kwh']:,.0f}",
                "—" if specific is None else f"{specific:.3f} kWh/{node['output_unit']}",
            )
    console.print(table)
