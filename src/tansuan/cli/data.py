"""``tansuan import`` and ``tansuan series``: manual data in, stored series out."""

from __future__ import annotations

from pathlib import Path

import typer

from tansuan.cli.app import app, console, err_console, fail, store_session
from tansuan.errors import InputError, TansuanError


@app.command("import")
def import_(
    file: Path | None = typer.Argument(None, help="CSV or XLSX file of manual data"),
    kind: str | None = typer.Option(
        None, "--kind", help="fuel, lab, production or energy (guessed from the header)"
    ),
    template: str | None = typer.Option(
        None, "--template", help="write the template of this kind instead of importing"
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="template file to write (.csv or .xlsx)"
    ),
) -> None:
    """Import manual data: invoices, stock changes, lab analyses, production / 导入手工数据.

    Good rows are stored, bad rows are listed with their row number (header = row 1).
    """
    from tansuan.ingest import manual

    try:
        if template:
            target = output or Path(f"tansuan-{template}.csv")
            manual.write_template(template, target)
            console.print(f"[green]✓[/] 模板 / template written: {target}")
            return
        if file is None:
            raise InputError("give a FILE to import, or --template KIND")
        from tansuan.platform import open_platform

        platform = open_platform()
        try:
            with console.status(f"导入 / importing {file} …"):
                result = manual.import_file(
                    platform.store, file, kind=kind, hooks=platform.manual_hooks
                )
        finally:
            platform.close()
    except TansuanError as error:
        fail(error)
    for e in result.errors:
        err_console.print(
            f"  • 第 {e.index} 行 / row {e.index}: [yellow]{e.point or '?'}[/] "
            f"{e.detail} [dim]({e.code})[/]"
        )
    console.print(
        f"[green]✓[/] {file} ({result.kind}): {result.rows} 行 rows, {result.new} 新增 new, "
        f"{result.versioned} 新版本 versioned, {result.duplicates} 重复 duplicate, "
        f"{len(result.errors)} 拒绝 rejected"
    )
    if result.errors:
        raise typer.Exit(1)


@app.command("replace-meter")
def replace_meter(
    point: str = typer.Argument(..., help="the counter point (kind total_increasing)"),
    site: str = typer.Option(..., "--site", help="site id"),
    at: str = typer.Option(..., "--at", help="when the meter was replaced, ISO 8601 with offset"),
    final: float = typer.Option(..., "--final", help="old meter's last reading [point unit]"),
    initial: float = typer.Option(..., "--initial", help="new meter's first reading"),
    reason: str = typer.Option(..., "--reason", help="why (work order, certificate, …)"),
    by: str = typer.Option("", "--by", help="who declares it"),
) -> None:
    """Declare a replaced meter with its final and initial readings / 登记换表.

    The consumption across the replacement is (final − last reading before it) plus
    (first reading after it − initial); the affected months are marked stale and the
    declaration is a ledger leaf.
    """
    from tansuan.platform import open_platform
    from tansuan.store.timeutil import parse_iso

    try:
        at_us = parse_iso(at)
        platform = open_platform()
        try:
            payload = platform.replace_meter(site, point, at_us, final, initial, reason, by=by)
        finally:
            platform.close()
    except TansuanError as error:
        fail(error)
    console.print(
        f"[green]✓[/] 换表已登记 / meter replacement recorded: {site}/{point} at {at}: "
        f"旧表末读数 final {payload['final']:g} {payload['unit']}, "
        f"新表初读数 initial {payload['initial']:g} {payload['unit']}"
    )


@app.command("series")
def series_cmd(
    point: str = typer.Argument(..., help="point id"),
    site: str = typer.Option(..., "--site", help="site id"),
    start: str = typer.Option(..., "--from", help="start, ISO 8601 with offset"),
    end: str = typer.Option(..., "--to", help="end (exclusive), ISO 8601 with offset"),
    resolution: str = typer.Option("hour", "--resolution", help="raw, hour, day or month"),
) -> None:
    """Print a point's series / 显示测点数据序列."""
    import datetime as dt

    from rich.table import Table

    from tansuan.store.queries import series

    try:
        lo, hi = (dt.datetime.fromisoformat(x) for x in (start, end))
    except ValueError:
        fail(InputError("--from/--to must be ISO 8601, e.g. 2026-11-01T00:00:00+08:00"))
    try:
        with store_session() as store, store.read() as connection:
            rows = series(connection, site, point, lo, hi, resolution)  # type: ignore[arg-type]
    except TansuanError as error:
        fail(error)
    if not rows:
        console.print("没有数据 / no data")
        return
    table = Table(*rows[0].keys())
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row.values()))
    console.print(table)
