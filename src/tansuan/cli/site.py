"""``tansuan site …`` and ``tansuan db upgrade``: the site model and the schema."""

from __future__ import annotations

from pathlib import Path

import typer

from tansuan.cli.app import app, console, fail, site_app, store_session
from tansuan.errors import TansuanError


@site_app.command("validate")
def site_validate(file: Path = typer.Argument(..., help="site-model YAML")) -> None:
    """Report every problem in a site model, with its path / 校验站点模型并列出全部问题.

    Besides the schema and the references, the factor chain of every source is checked
    (docs/accounting.md, "Factor chain"): an unknown sector, factor series, CH4/N2O
    category or GWP set, a parameter out of range or not read by its method, and a fuel
    parameter with no measured data, no site-model value and no default in the chosen
    series are errors (exit 1); a fuel parameter read only from measured data, with no
    fallback, is a warning.
    """
    from tansuan.accounting.chain import check_model
    from tansuan.domain.catalog import shipped_catalog
    from tansuan.errors import ValidationFailed
    from tansuan.site.validate import load

    try:
        model = load(file)
        errors, warnings = check_model(model, shipped_catalog())
    except TansuanError as error:
        fail(error, code=1)
    for issue in warnings:
        console.print(
            f"[yellow]⚠ 警告 / warning[/] {issue.path}: {issue.detail} [dim]({issue.code})[/]"
        )
    if errors:
        fail(ValidationFailed(errors, what=str(file)), code=1)
    sites = model.sites()
    n_points = sum(len(site.points()) for site in sites)
    problems = f"{len(warnings)} 个警告 warning(s)" if warnings else "没有问题 / no problems"
    console.print(
        f"[green]✓[/] {file}: {len(sites)} 个站点 site(s), {n_points} 个测点 point(s) — {problems}"
    )


db_app = typer.Typer(
    rich_markup_mode=None, help="Database: schema upgrades / 数据库：结构升级", no_args_is_help=True
)
app.add_typer(db_app, name="db")


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

    from tansuan.cli.ledger_support import ledger
    from tansuan.ledger.inputs import site_model_hook
    from tansuan.site.validate import load

    try:
        model = load(file)
        with store_session() as store, console.status("加载 / loading the site model …"):
            hooks = [site_model_hook(ledger())]
            summary = store.load_model(model, source=str(file), hooks=hooks)
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
        with store_session() as store, store.read() as connection:
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
