"""``tansuan twin …``: backfill history, run the live simulator, what-if scenarios."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from tansuan import clock
from tansuan.cli.app import console, err_console, fail
from tansuan.errors import TansuanError
from tansuan.twin import DEFAULT, DEMOS

if TYPE_CHECKING:
    from tansuan.twin.faults import Fault


twin_app = typer.Typer(
    rich_markup_mode=None,
    help="Digital twin: demo plants, history, live, what-if / 数字孪生：示范工厂、历史、实时、情景",
    no_args_is_help=True,
)

SITE_HELP = f"demo site: {', '.join(DEMOS)} / 示范站点"
SEED_HELP = "random seed; the same seed gives the same data / 随机种子"
FAULT_HELP = (
    "fault to inject, KIND:TARGET@START/MINUTES[/MAGNITUDE], KIND one of dropout, stuck, "
    "spike, counter_reset, clock_skew, outage (TARGET = a connection) / 注入故障"
)


def _faults(texts: list[str], site_name: str) -> list[Fault]:
    from tansuan.twin import demo
    from tansuan.twin.faults import parse

    site = demo.site(site_name)
    connections: dict[str, tuple[str, ...]] = {}
    for _, device in site.iter_devices():
        for point in device.points:
            for proto in ("hj212", "modbus", "opcua"):
                address = getattr(point.protocol, proto)
                if address is not None:
                    connections.setdefault(address.connection, ())
                    connections[address.connection] += (point.id,)
    return [parse(text, connections=connections) for text in texts]


@twin_app.command("sites")
def sites() -> None:
    """List the demo sites shipped with tansuan / 列出示范站点."""
    from tansuan.twin import demo

    table = Table("site / 站点", "file / 文件", "points / 测点")
    for name in DEMOS:
        site = demo.site(name)
        table.add_row(name, str(demo.site_file(name)), str(len(site.points())))
    console.print(table)


@twin_app.command("backfill")
def backfill(
    site: str = typer.Option(DEFAULT, "--site", help=SITE_HELP),
    days: int = typer.Option(365, "--days", min=1, help="days of history / 历史天数"),
    seed: int = typer.Option(7, "--seed", help=SEED_HELP),
    end: str | None = typer.Option(None, "--end", help="last local day, YYYY-MM-DD (today)"),
    step: int = typer.Option(
        3600,
        "--step",
        min=0,
        help="thin points to at least this interval [s]; CEMS points and points an emission "
        "source reads keep theirs; 0 = every point at its own interval / 历史步长",
    ),
    older_step: int | None = typer.Option(
        None,
        "--older-step",
        min=60,
        help="thin days more than a year before --end to this interval [s] (e.g. 86400: "
        "a longer history that stays quick to load) / 一年以前的历史步长",
    ),
    fault: list[str] = typer.Option([], "--fault", help=FAULT_HELP),
    if_missing: bool = typer.Option(
        False,
        "--if-missing",
        help="do nothing when this site was backfilled before (its twin state exists); "
        "`tansuan twin run` then catches up since the last reading / 已回填则跳过",
    ),
) -> None:
    """Load a demo site and backfill its history into the store / 加载示范站点并回填历史数据."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tansuan.cli.ledger_support import ledger as ledger_for_data_dir
    from tansuan.ledger.inputs import site_model_hook
    from tansuan.platform import open_platform
    from tansuan.settings import get_settings
    from tansuan.store import Store
    from tansuan.twin import demo
    from tansuan.twin.history import backfill as run
    from tansuan.twin.history import load_state, state_path

    try:
        last = dt.date.fromisoformat(end) if end else clock.today()
    except ValueError:
        err_console.print("[bold red]错误 / error:[/] --end must be YYYY-MM-DD")
        raise typer.Exit(2) from None
    try:
        settings = get_settings()
        model = demo.site_model(site)
        faults = _faults(fault, site)
        state = load_state(state_path(settings.data_dir, model.sites()[0].id))
        if if_missing and state is not None:
            console.print(
                f"[green]✓[/] {site}: 已回填至 / already backfilled up to {state['day']} — "
                "跳过 / skipped"
            )
            return
        with console.status("打开数据库 / opening the store …"):
            store = Store(settings=settings)
            store.load_model(
                model, source=f"twin:{site}", hooks=[site_model_hook(ledger_for_data_dir())]
            )
            platform = open_platform(settings, store=store)
        try:
            with Progress(
                TextColumn("回填 / backfill {task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as progress:
                task = progress.add_task(site, total=days)
                report = run(
                    platform,
                    model,
                    demo.spec(site, seed=seed, end=last),
                    days=days,
                    end=last,
                    history_step_s=step or None,
                    older_step_s=older_step,
                    faults=faults,
                    progress=lambda done, total: progress.update(task, completed=done),
                )
        finally:
            platform.close()
    except TansuanError as error:
        fail(error)
    for line in report.errors:
        err_console.print(f"  • {line}")
    console.print(
        f"[green]✓[/] {site}: {report.days} 天 days, {report.rows_stored:,} 读数 readings stored "
        f"({report.rows_rejected:,} rejected), {report.manual_rows} 手工数据 manual rows; "
        f"generate {report.generate_s:.1f} s, ingest {report.ingest_s:.1f} s"
    )


def configure_logging() -> None:
    """The live twin's log (the demo's twin.log): tansuan's own lines at INFO (a summary
    per :data:`~tansuan.twin.live.SUMMARY_S`, the first failure of each kind), the
    protocol libraries' (asyncua, pymodbus, paho) at WARNING and above only."""
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("tansuan").setLevel(logging.INFO)


@twin_app.command("run")
def run_live(
    site: str = typer.Option(DEFAULT, "--site", help=SITE_HELP),
    seed: int = typer.Option(7, "--seed", help=SEED_HELP),
    url: str = typer.Option(
        "http://127.0.0.1:8000", "--url", help="server for HTTP readings / HTTP 读数服务地址"
    ),
    tick: float = typer.Option(10.0, "--tick", min=0.1, help="seconds between sends / 发送间隔"),
    duration: float | None = typer.Option(
        None, "--duration", help="stop after this many seconds / 运行时长"
    ),
    no_hj212: bool = typer.Option(False, "--no-hj212", help="send CEMS data over HTTP too"),
    modbus: bool = typer.Option(
        False, "--modbus", help="serve meters as Modbus TCP servers (gateway polls) / Modbus 服务"
    ),
    opcua: bool = typer.Option(
        False, "--opcua", help="serve PLC values as an OPC UA server (gateway subscribes)"
    ),
    fault: list[str] = typer.Option([], "--fault", help=FAULT_HELP),
    mqtt: bool = typer.Option(
        False, "--mqtt", help="meters over MQTT (TANSUAN_MQTT_URL) instead of HTTP / 经 MQTT 发送"
    ),
    every_step: bool = typer.Option(
        False,
        "--every-step",
        help="send every point at every simulation step (5 min for the shipyard), not only "
        "at its own interval / 每个仿真步长发送全部测点",
    ),
) -> None:
    """Run the live simulator: CEMS over HJ 212, meters over MQTT or HTTP / 运行实时仿真."""
    import asyncio

    from tansuan.settings import get_settings
    from tansuan.twin.live import LiveOptions, run

    configure_logging()
    settings = get_settings()
    try:
        injected = tuple(_faults(fault, site))
    except TansuanError as error:
        fail(error)
    options = LiveOptions(
        url=url,
        tick_s=tick,
        duration_s=duration,
        hj212=None if no_hj212 else (settings.hj212_host, settings.hj212_port),
        token=settings.ingest_token,
        mqtt_url=settings.mqtt_url if mqtt else None,
        modbus=modbus,
        opcua=opcua,
        faults=injected,
        mqtt_prefix=settings.mqtt_topic_prefix,
        every_step=every_step,
    )
    if mqtt and not settings.mqtt_url:
        err_console.print("[bold red]错误 / error:[/] --mqtt needs TANSUAN_MQTT_URL")
        raise typer.Exit(2)
    console.print(f"孪生 / twin {site} → {url} (HJ 212 {options.hj212}) — Ctrl-C 停止 / stop")
    try:
        sent = asyncio.run(run(site, settings.data_dir, options, seed=seed))
    except TansuanError as error:
        fail(error)
    except KeyboardInterrupt:
        console.print("已停止 / stopped")
        return
    console.print(
        f"[green]✓[/] {sent.http:,} HTTP + {sent.mqtt:,} MQTT + {sent.hj212:,} HJ 212 "
        f"读数 readings sent, {sent.modbus:,} Modbus / {sent.opcua:,} OPC UA updates"
    )


@twin_app.command("scenario")
def scenario(
    site: str = typer.Option(DEFAULT, "--site", help=SITE_HELP),
    days: int = typer.Option(365, "--days", min=7, help="days simulated / 模拟天数"),
    seed: int = typer.Option(7, "--seed", help=SEED_HELP),
    fan_schedule: bool = typer.Option(
        False, "--fan-schedule", help="scheduled remote fan control / 风机定时远程控制"
    ),
    vfd_retrofit: bool = typer.Option(
        False, "--vfd-retrofit", help="add VFDs to every fan / 全部风机加装变频器"
    ),
    fuel: str | None = typer.Option(
        None, "--fuel", help="switch boilers to this fuel, e.g. natural_gas / 燃料替换"
    ),
    green_share: float = typer.Option(
        0.0, "--green-share", min=0.0, max=1.0, help="share of green power 0…1 / 绿电比例"
    ),
    production: float = typer.Option(
        1.0, "--production", min=0.1, max=3.0, help="production relative to baseline / 产量倍数"
    ),
    electricity_price: float = typer.Option(
        0.72, "--electricity-price", help="electricity price [CNY/kWh] / 电价"
    ),
    fuel_price: float = typer.Option(6500.0, "--fuel-price", help="fuel price [CNY/t] / 燃料价"),
    new_fuel_price: float | None = typer.Option(
        None, "--new-fuel-price", help="price of the new fuel [CNY/t] / 新燃料价格"
    ),
    carbon_price: float = typer.Option(
        90.0, "--carbon-price", help="carbon price [CNY/tCO2] / 碳价"
    ),
) -> None:
    """What-if: energy, emissions and cost against the baseline / 情景分析：与基准对比."""
    from tansuan.twin.scenario import Change, Prices, compare

    change = Change(
        fan_schedule=fan_schedule,
        vfd_retrofit=vfd_retrofit,
        fuel=fuel,
        green_share=green_share,
        production=production,
    )
    prices = Prices(electricity_price, fuel_price, new_fuel_price or fuel_price, carbon_price)
    try:
        with console.status("模拟 / simulating baseline and scenario …"):
            result = compare(site, change, prices, days=days, seed=seed)
    except TansuanError as error:
        fail(error)
    table = Table(title=f"{site}: {days} 天 days — {change.label()}")
    table.add_column("指标 metric")
    table.add_column("基准 baseline", justify="right")
    table.add_column("情景 scenario", justify="right")
    table.add_column("变化 change", justify="right")
    for name, base, new in result.rows():
        delta = (new - base) / base * 100 if base else 0.0
        table.add_row(name, f"{base:,.1f}", f"{new:,.1f}", f"{delta:+.1f} %")
    console.print(table)
