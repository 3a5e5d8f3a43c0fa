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
    rich_markup_mode=None,
    help="tansuan (碳算): count a plant's carbon precisely enough to trade on it.",
    no_args_is_help=True,
    add_completion=False,
)
site_app = typer.Typer(
    rich_markup_mode=None,
    help="Site model: validate and load / 站点模型：校验与加载",
    no_args_is_help=True,
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


# --- HJ 212 (gateways/hj212) -------------------------------------------------------------
hj212_app = typer.Typer(
    rich_markup_mode=None,
    help="HJ 212-2017 packets: decode and build / HJ 212-2017 报文：解码与生成",
    no_args_is_help=True,
)
app.add_typer(hj212_app, name="hj212")
gateway_app = typer.Typer(
    rich_markup_mode=None,
    help="Run one protocol gateway alone / 单独运行一个协议网关",
    no_args_is_help=True,
)
app.add_typer(gateway_app, name="gateway")
# `tansuan gateway mqtt|modbus|opcua` (tansuan.gateways.cli) join the same sub-app.
from tansuan.gateways.cli import register as register_gateways  # noqa: E402

register_gateways(gateway_app)


@hj212_app.command("decode")
def hj212_decode(
    packet: str = typer.Argument(..., help="the whole packet, from ## to the CRC"),
) -> None:
    """Decode a packet and print it as JSON / 解码报文并以 JSON 输出.

    Exits 1 when the length or CRC is wrong, after printing what was decoded.
    """
    import json

    from tansuan.gateways.hj212 import codec

    text = packet.strip()
    for suffix in ("\\r\\n", "\\n"):  # a line end typed as text in a shell
        text = text.removesuffix(suffix)
    try:
        decoded = codec.decode(text, verify=False)
    except codec.Hj212Error as error:
        fail(error, code=1)
    console.print_json(json.dumps(codec.to_json(decoded), ensure_ascii=False))
    problems = []
    if not decoded.length_ok:
        problems.append(
            f"长度错误 / length error: declared {decoded.length_declared:04d}, "
            f"data segment has {decoded.length_actual} bytes"
        )
    if not decoded.crc_ok:
        declared = "—" if decoded.crc_declared is None else f"{decoded.crc_declared:04X}"
        problems.append(
            f"CRC 校验错误 / CRC error: declared {declared}, computed {decoded.crc_computed:04X}"
        )
    for problem in problems:
        err_console.print(f"[bold red]错误 / error:[/] {problem}")
    if problems:
        raise typer.Exit(1)


@hj212_app.command("encode")
def hj212_encode(
    cn: str = typer.Option(..., help="command code, e.g. 2011, 2051, 2061, 2031"),
    mn: str = typer.Option(..., help="data-logger MN"),
    pw: str = typer.Option("123456", help="password (PW)"),
    st: str = typer.Option("31", help="system code (ST); 31 = air pollution source"),
    qn: str | None = typer.Option(None, help="request id; default: now, YYYYMMDDhhmmsszzz"),
    flag: int = typer.Option(5, help="Flag: 4 = HJ 212-2017, +1 ask for an answer"),
    cp: str = typer.Option("", help="data area without the && (e.g. 'DataTime=…;a05001-Rtd=1')"),
) -> None:
    """Build a packet with its length and CRC / 生成带长度与 CRC 的报文."""
    import datetime as dt

    from tansuan.gateways.hj212 import codec

    try:
        raw = codec.build(
            cn=cn,
            cp=cp,
            st=st,
            qn=qn or codec.make_qn(dt.datetime.now()),
            pw=pw,
            mn=mn,
            flag=flag,
        )
        codec.decode(raw)
    except codec.Hj212Error as error:
        fail(error, code=1)
    console.print(raw.decode("utf-8").rstrip(), markup=False, highlight=False, soft_wrap=True)


@gateway_app.command("hj212")
def gateway_hj212(
    site_model: Path = typer.Option(..., "--site-model", help="site-model YAML with loggers"),
) -> None:
    """Run the HJ 212-2017 TCP gateway / 运行 HJ 212-2017 网关 (host/port from settings)."""
    import logging

    from tansuan.gateways.hj212.run import run
    from tansuan.platform import open_gateway_sink
    from tansuan.settings import get_settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = get_settings()
    console.print(
        f"HJ 212 网关 / gateway on {settings.hj212_host}:{settings.hj212_port} — Ctrl-C 停止 / stop"
    )
    try:
        run(settings, site_model, open_gateway_sink)
    except TansuanError as error:
        fail(error, code=1)
    except KeyboardInterrupt:
        console.print("已停止 / stopped")


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


# --- ledger (issue 6) -------------------------------------------------------------------
ledger_app = typer.Typer(
    rich_markup_mode=None,
    help="Tamper-evident ledger: keys, tree heads, export / 防篡改账本：密钥、树头、导出",
    no_args_is_help=True,
)
app.add_typer(ledger_app, name="ledger")

BATCH_ROWS_HELP = "The store's batch_rows function as module:function / 存储层 batch_rows 函数"


def _batch_ids(batch_rows: str, batch_ids: str | None) -> str | None:
    """With the store's own ``batch_rows``, list the store's reading batches by default."""
    if batch_ids is None and batch_rows == "tansuan.store:batch_rows":
        return "tansuan.store:reading_batch_ids"
    return batch_ids


BATCH_IDS_HELP = (
    "The store's function listing every batch id, as module:function; lets verify name "
    "batches no leaf logs / 列出全部批次号的函数（可选）"
)


@ledger_app.command("pubkey")
def ledger_pubkey() -> None:
    """Print the ledger's public key (PEM); creates the key pair on first use / 显示账本公钥."""
    from tansuan.ledger.cli_support import pubkey_pem

    try:
        console.out(pubkey_pem(), end="", highlight=False)
    except TansuanError as error:
        fail(error)


@ledger_app.command("sth")
def ledger_sth() -> None:
    """Sign and keep a tree head now; print it as JSON / 立即签发树头."""
    from tansuan.ledger.cli_support import issue_sth

    try:
        console.print_json(data=issue_sth())
    except TansuanError as error:
        fail(error)


@ledger_app.command("export")
def ledger_export(
    directory: Path = typer.Argument(..., help="new folder to write / 导出目录（须为空）"),
    batch_rows: str = typer.Option("tansuan.store:batch_rows", help=BATCH_ROWS_HELP),
    batch_ids: str | None = typer.Option(None, help=BATCH_IDS_HELP),
) -> None:
    """Export data, leaves, tree heads and public key for offline verify / 导出账本."""
    from tansuan.ledger.cli_support import export

    try:
        manifest = export(directory, batch_rows, _batch_ids(batch_rows, batch_ids), err_console)
    except TansuanError as error:
        fail(error)
    console.print(
        f"[green]✓[/] {directory}: {manifest['leaves']} 叶子 leaves, "
        f"{manifest['readings']} 读数 readings, {manifest['sths']} 树头 STHs"
    )


@app.command()
def verify(
    export_dir: Path | None = typer.Option(
        None, "--export", help="verify an export folder instead of the live database / 校验导出目录"
    ),
    report: Path | None = typer.Option(
        None, "--report", help="check one report receipt (JSON) / 校验报告回执"
    ),
    document: Path | None = typer.Option(
        None, "--document", help="with --report: the report file the receipt covers / 报告文件"
    ),
    public_key: Path | None = typer.Option(
        None, "--public-key", help="the log's public key (PEM) to trust / 受信任的账本公钥"
    ),
    batch_rows: str = typer.Option("tansuan.store:batch_rows", help=BATCH_ROWS_HELP),
    batch_ids: str | None = typer.Option(None, help=BATCH_IDS_HELP),
) -> None:
    """Recompute the ledger and name every change; exit 0 only if all holds / 校验账本."""
    from tansuan.ledger.cli_support import run_verify

    try:
        ok = run_verify(
            console,
            err_console,
            export_dir=export_dir,
            report=report,
            document=document,
            public_key=public_key,
            batch_rows=batch_rows,
            batch_ids=_batch_ids(batch_rows, batch_ids),
        )
    except TansuanError as error:
        fail(error)
    raise typer.Exit(0 if ok else 1)


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


# -- calc: emissions of an activity-data file --------------------------------------------


@app.command()
def calc(
    file: Path = typer.Argument(..., help="activity-data YAML (see examples/plant.yaml)"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
) -> None:
    """Compute the emissions of an activity-data file / 计算活动数据文件的排放量."""
    import orjson

    from tansuan.calculate import calculate_file

    try:
        calculation = calculate_file(file)
    except TansuanError as error:
        fail(error, code=1)
    if as_json:
        typer.echo(orjson.dumps(calculation.as_json(), option=orjson.OPT_INDENT_2).decode())
        return
    _print_calculation(calculation, file)


def _print_calculation(calculation: Any, file: Path) -> None:
    """The results as a Rich table, then every default factor used with its source."""
    from rich.table import Table

    title = (
        f"{file.name} — 排放 emissions (GWP {calculation.gwp_set}"
        + (f", {calculation.year}" if calculation.year else "")
        + (f", {calculation.region}" if calculation.region else "")
        + ")"
    )
    table = Table(title=title, show_footer=True)
    table.add_column("来源 source", footer="合计 total")
    table.add_column("方法 method")
    table.add_column("CO2 t", justify="right")
    table.add_column("其他 other", justify="right")
    table.add_column("CO2e t", justify="right", footer=f"{calculation.total_co2e_t:,.3f}")
    table.add_column("缺省 defaults", justify="right")
    defaults: dict[str, Any] = {}
    for outcome in calculation.sources:
        trace = outcome.result.trace
        used = [
            p
            for p in trace.factors
            if p.origin == "default" and p.factor_id and not p.factor_id.startswith("gwp.")
        ]
        for parameter in used:
            defaults.setdefault(parameter.factor_id, parameter)
        gases = dict(outcome.gases_t)
        co2 = gases.pop("CO2", None)
        other = ", ".join(f"{gas} {tonnes:,.4g} t" for gas, tonnes in gases.items())
        if outcome.method == "energy":
            other = f"{outcome.result.energy_tce:,.2f} tce"
        table.add_row(
            outcome.id,
            outcome.method,
            f"{co2:,.3f}" if co2 is not None else "–",
            other or "–",
            f"{outcome.co2e_t:,.3f}",
            str(len(used)) if used else "–",
        )
    console.print(table)
    if defaults:
        legend = Table(title="缺省因子 default factors used (reference tables)")
        legend.add_column("id")
        legend.add_column("value", justify="right")
        legend.add_column("tag")
        for factor_id, parameter in defaults.items():
            legend.add_row(
                factor_id, f"{parameter.value:.6g} {parameter.unit}", parameter.confidence or ""
            )
        console.print(legend)


# --- store, ingest and manual data (issue 3) -------------------------------------------

db_app = typer.Typer(
    rich_markup_mode=None, help="Database: schema upgrades / 数据库：结构升级", no_args_is_help=True
)
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


# --- accounting (issue 4) -------------------------------------------------------------

from tansuan.accounting.commands import account  # noqa: E402

app.command("account")(account)

# --- reports (issue 8) ----------------------------------------------------------------
from tansuan.reports.commands import report_app  # noqa: E402

app.add_typer(report_app, name="report")

# --- analytics and market (issue 10) --------------------------------------------------
from tansuan.analytics.commands import analyse, forecast  # noqa: E402
from tansuan.market.commands import position_app  # noqa: E402

app.command("analyse")(analyse)
app.command("forecast")(forecast)
app.add_typer(position_app, name="position")
from tansuan.analytics.findings_command import findings  # noqa: E402

app.command("findings")(findings)
from tansuan.analytics.enpi_command import enpi  # noqa: E402

app.command("enpi")(enpi)
from tansuan.analytics.alerts_command import alerts as _alerts  # noqa: E402

app.command("alerts")(_alerts)


# --- web: users, tokens, serve (issue 7) ------------------------------------------------
from tansuan.web.commands import register as _register_web  # noqa: E402

_register_web(app)

# --- digital twin (issue 9) -----------------------------------------------------------
from tansuan.twin.commands import twin_app  # noqa: E402

app.add_typer(twin_app, name="twin")


# --- make demo (issue 9) ----------------------------------------------------------------
from tansuan.launcher import demo  # noqa: E402

app.command("demo")(demo)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
