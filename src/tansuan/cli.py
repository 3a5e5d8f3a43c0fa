"""``tansuan …``: a thin shell over the library. Every command and option has help.

User-facing messages are bilingual (zh-CN / en).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from tansuan import __version__
from tansuan.errors import InputError, TansuanError, ValidationFailed

app = typer.Typer(
    help="tansuan (碳算): count a plant's carbon precisely enough to trade on it.",
    no_args_is_help=True,
    add_completion=False,
)
site_app = typer.Typer(
    help="Site model: validate and load / 站点模型：校验与加载", no_args_is_help=True
)
app.add_typer(site_app, name="site")

console = Console()
err_console = Console(stderr=True)


def fail(error: TansuanError, code: int = 2) -> None:
    """Print a tansuan error the way users read it, then exit non-zero."""
    if isinstance(error, ValidationFailed):
        err_console.print(f"[bold red]错误 / error:[/] {error.args[0].splitlines()[0]}")
        for issue in error.issues:
            err_console.print(f"  • [yellow]{issue.path}[/]: {issue.detail} [dim]({issue.code})[/]")
    else:
        err_console.print(f"[bold red]错误 / error:[/] {error}")
    raise typer.Exit(code)


@app.command()
def version() -> None:
    """Print the version / 显示版本."""
    console.print(f"tansuan {__version__}")


@app.command()
def settings() -> None:
    """List every setting with its environment variable and help / 列出全部配置项."""
    from rich.table import Table

    from tansuan.settings import Settings, get_settings

    current = get_settings()
    table = Table("env", "value", "help")
    for name, field in Settings.model_fields.items():
        table.add_row(f"TANSUAN_{name.upper()}", str(getattr(current, name)), field.description)
    console.print(table)


@site_app.command("validate")
def site_validate(file: Path = typer.Argument(..., help="site-model YAML")) -> None:
    """Report every problem in a site model, with its path / 校验站点模型并列出全部问题."""
    from tansuan.site.validate import load

    try:
        model = load(file)
    except TansuanError as error:
        fail(error, code=1)
    sites = model.sites()
    n_points = sum(len(site.points()) for site in sites)
    console.print(
        f"[green]✓[/] {file}: {len(sites)} 个站点 site(s), {n_points} 个测点 point(s) — "
        "没有问题 / no problems"
    )


# --- store, ingest and manual data (issue 3) -------------------------------------------

db_app = typer.Typer(help="Database: schema upgrades / 数据库：结构升级", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _open_store() -> Any:
    """The configured store (schema upgraded), opened with a live status."""
    from tansuan.store import Store

    with console.status("打开数据库 / opening the store …"):
        return Store()


@contextmanager
def _store() -> Iterator[Any]:
    """The configured store, closed when the block ends."""
    store = _open_store()
    try:
        yield store
    finally:
        store.close()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the store's schema to the newest revision / 创建或升级数据库结构."""
    from tansuan.settings import get_settings
    from tansuan.store import engine as engines

    settings = get_settings()
    try:
        engine = engines.make_engine(
            settings.effective_database_url, sqlite_synchronous=settings.sqlite_synchronous
        )
        before, after = engines.upgrade(engine)
        engine.dispose()
    except TansuanError as error:
        fail(error)
    console.print(f"[green]✓[/] 数据库结构 / schema: {before or '(empty)'} → {after}")


@site_app.command("load")
def site_load(file: Path = typer.Argument(..., help="site-model YAML")) -> None:
    """Load a site model into the store, applying the difference / 加载站点模型（增量）.

    New, changed and retired entities are counted; nothing stored is deleted and each
    entity's history is kept.
    """
    from rich.table import Table

    from tansuan.site.validate import load

    try:
        model = load(file)
        with _store() as store, console.status("加载 / loading the site model …"):
            summary = store.load_model(model, source=str(file))
    except TansuanError as error:
        fail(error, code=1)
    table = Table("kind / 类型", "new / 新增", "changed / 变更", "retired / 停用")
    for kind, counts in summary.by_kind.items():
        table.add_row(kind, str(counts["new"]), str(counts["changed"]), str(counts["retired"]))
    console.print(table)
    console.print(
        f"[green]✓[/] 模型版本 / model version {summary.version_id}: "
        f"{summary.new} 新增 new, {summary.changed} 变更 changed, "
        f"{summary.retired} 停用 retired, {summary.unchanged} 未变 unchanged"
    )


@site_app.command("history")
def site_history() -> None:
    """List the site-model versions loaded into the store / 列出站点模型版本."""
    from rich.table import Table
    from sqlalchemy import select

    from tansuan.store import schema
    from tansuan.store.timeutil import from_us

    try:
        with _store() as store, store.read() as connection:
            rows = connection.execute(
                select(schema.model_version).order_by(schema.model_version.c.id)
            ).all()
    except TansuanError as error:
        fail(error)
    table = Table("version", "loaded (UTC)", "source", "new", "changed", "retired")
    for r in rows:
        table.add_row(
            str(r.id),
            from_us(r.loaded_at_us).isoformat(timespec="seconds"),
            r.source,
            str(r.new),
            str(r.changed),
            str(r.retired),
        )
    console.print(table)


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
        with _store() as store, console.status(f"导入 / importing {file} …"):
            result = manual.import_file(store, file, kind=kind)
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
        with _store() as store, store.read() as connection:
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


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
