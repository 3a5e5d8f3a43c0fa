"""``tansuan demo`` (what ``make demo`` runs): the whole platform on the demo plant.

One command, for a newcomer's first minute:

1. the shipyard's site model and three years of history (the last at hourly detail, older
   days daily) are loaded the first time (a Rich progress bar; later runs reuse the data:
   ``tansuan twin backfill --if-missing``);
2. the history is accounted month by month, so every page and report has results;
3. the demo logins are created once;
4. ``tansuan serve`` starts the dashboard, the API and the HJ 212, Modbus and OPC UA
   gateways (MQTT too when ``TANSUAN_MQTT_URL`` is set); ``tansuan twin run`` then sends
   live data the way a plant would: CEMS over HJ 212, meters over Modbus TCP, the boiler
   PLC over OPC UA, the rest over HTTP (or MQTT);
5. the URL and the logins are printed; Ctrl-C stops everything.

Both services run as child processes of this one, so a crash in either is visible and
Ctrl-C (or SIGTERM) ends both.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import typer

from tansuan import clock
from tansuan.cli.app import console
from tansuan.errors import NotFound, TansuanError

#: The demo logins (demo mode only: TANSUAN_DEMO=true, the default).
LOGINS = (
    ("admin", "tansuan-demo", "admin"),
    ("manager", "tansuan-demo", "energy_manager"),
    ("accountant", "tansuan-demo", "carbon_accountant"),  # files months, proposes
    ("approver", "tansuan-demo", "approver"),  # accepts or rejects (four eyes)
)


def _tansuan(*args: str) -> list[str]:
    return [sys.executable, "-m", "tansuan.cli", *args]


def _token(data_dir: Path) -> str:
    """The demo's ingest token, kept under ``data_dir`` so a second start reuses it."""
    path = data_dir / "demo-ingest-token"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    token = "demo-" + secrets.token_hex(16)
    path.write_text(token, encoding="utf-8")
    path.chmod(0o600)
    return token


#: Illustrative prices for the demo's findings: an industrial electricity tariff
#: [CNY/kWh] and a CEA price [CNY/tCO2]. Not reference data: a plant sets its own
#: (TANSUAN_ENERGY_TARIFF, TANSUAN_CARBON_PRICE).
DEMO_TARIFF, DEMO_CARBON_PRICE = "0.7", "80"
#: History step of the demo's days older than a year [s].
OLDER_STEP_S = 86_400


def _account_history(site: str, days: int) -> None:
    """Account every month of the history (only new or changed months are saved)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tansuan.accounting.periods import Period, month_period
    from tansuan.platform import open_platform

    platform = open_platform()
    try:
        accountant = platform.accountants.all()
        found = next((a for a in accountant.values() if site in {s.id for s in a.model.sites()}),
                     None)  # fmt: skip
        if found is None:
            raise NotFound(f"site {site!r} is not loaded")
        today = clock.today()
        start = (today - dt.timedelta(days=days - 1)).replace(day=1)
        end = month_period(today.year, today.month).end  # whole months: labels YYYY-MM
        period = Period(start, end, "custom", f"{start}..{end}")
        with Progress(
            TextColumn("核算历史 / accounting the history"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("run", total=None)
            report = found.run(
                site, period, progress=lambda d, t: bar.update(task, completed=d, total=t)
            )
        counts = ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes().items()))
        console.print(f"[green]✓[/] 核算 / accounted {site}: {counts or 'nothing new'}")
        if found_problems := report.problems():  # never silent: say which months lack a figure
            console.print(
                f"[yellow]⚠ {len(found_problems)} 个排放源-月份失败或缺数据 / source-months "
                f"failed or missing (tansuan account --site {site} --period … lists them)[/]"
            )
        for source, month, error in report.errors[:5]:
            console.print(f"  [yellow]![/] {source} {month}: {error}")
    finally:
        platform.close()


def _users(org: str) -> None:
    from tansuan.store import Store, users

    store = Store()
    try:
        with store.write() as connection:
            for username, password, role in LOGINS:
                try:
                    users.user_id_by_name(connection, username)
                except NotFound:
                    users.add_user(
                        connection, org=org, username=username, password=password, role=role
                    )
    finally:
        store.close()


def _savings_link(data_dir: Path, site: str, base: str) -> str | None:
    """The savings page of the demo's fan-control intervention, filled in."""
    from tansuan.twin import demo as demo_sites
    from tansuan.twin.history import load_state, state_path

    state = load_state(state_path(data_dir, site))
    node = demo_sites.SAVINGS_NODE.get(site)
    if not state or not state.get("intervention") or node is None:
        return None
    return f"{base}/insights/savings?site={site}&node={node}&intervention={state['intervention']}"


def _wait_http(url: str, process: subprocess.Popen[Any], seconds: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while True:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            if process.poll() is not None:
                raise TansuanError("tansuan serve stopped while starting (see above)") from None
            if time.monotonic() > deadline:
                raise TansuanError(f"tansuan serve did not answer at {url}") from None
            time.sleep(0.2)


def demo(
    site: str = typer.Option("shipyard", "--site", help="demo site: shipyard, coal-unit, cement"),
    days: int = typer.Option(
        1095,
        "--days",
        min=1,
        help="days of history on first start (the last year at the twin's hourly history "
        "step, older days daily; three years let the forecasts back-test)",
    ),
    port: int | None = typer.Option(None, "--port", help="web port (TANSUAN_HTTP_PORT)"),
    live: bool = typer.Option(True, "--live/--no-live", help="run the live simulator"),
) -> None:
    """Bring up the platform on a simulated plant / 启动演示：仿真工厂 + 全部服务.

    Installs nothing: ``make demo`` did. First start: loads the demo site and a year of
    history; later starts reuse it. Ctrl-C stops everything.
    """
    from tansuan.settings import get_settings
    from tansuan.twin import demo as demo_sites

    settings = get_settings()
    if not settings.demo:
        console.print("[bold red]错误 / error:[/] tansuan demo needs TANSUAN_DEMO=true")
        raise typer.Exit(2)
    # Whole months: the history starts on the first of a month, so no month is partial
    # (a partial first month would read as a dip to the forecasts).
    today = clock.today()
    days = (today - (today - dt.timedelta(days=days - 1)).replace(day=1)).days + 1
    env = {**os.environ, "TANSUAN_INGEST_TOKEN": settings.ingest_token or _token(settings.data_dir)}
    os.environ["TANSUAN_INGEST_TOKEN"] = env["TANSUAN_INGEST_TOKEN"]
    # The findings and forecasts of the demo use the demo plant's shifts and closures.
    if site in demo_sites.DEMOS:
        env.setdefault("TANSUAN_SHIFT_CALENDAR", demo_sites.shift_calendar(site))
    # Prices to value the findings with (illustrative; a plant sets its own).
    env.setdefault("TANSUAN_ENERGY_TARIFF", DEMO_TARIFF)
    env.setdefault("TANSUAN_CARBON_PRICE", DEMO_CARBON_PRICE)
    if "alerts" not in settings.serve_services and "TANSUAN_SERVE_SERVICES" not in os.environ:
        # The demo's server also runs the alerts job (the dashboard shows what it raised).
        env["TANSUAN_SERVE_SERVICES"] = ",".join(filter(None, [settings.serve_services, "alerts"]))
    get_settings.cache_clear()
    backfill = subprocess.run(
        _tansuan(
            *("twin", "backfill", "--site", site, "--days", str(days)),
            *("--older-step", str(OLDER_STEP_S), "--if-missing"),
        ),
        env=env,
        check=False,
    )
    if backfill.returncode != 0:
        raise typer.Exit(backfill.returncode)
    try:
        model = demo_sites.site_model(site)
        _users(model.organisation.id)
        _account_history(site, days)
    except TansuanError as error:
        console.print(f"[bold red]错误 / error:[/] {error}")
        raise typer.Exit(1) from None
    http_port = port or settings.http_port
    base = f"http://127.0.0.1:{http_port}"
    children: list[subprocess.Popen[Any]] = []
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    logs = settings.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    try:
        with console.status("启动服务 / starting the server and the gateways …"):
            server = _spawn(_tansuan("serve", "--port", str(http_port)), env, logs / "serve.log")
            children.append(server)
            _wait_http(f"{base}/login", server)
        if live:
            twin = _tansuan("twin", "run", "--site", site, "--url", base, "--modbus", "--opcua",
                            "--every-step")  # fmt: skip
            if settings.mqtt_url:
                twin.append("--mqtt")
            children.append(_spawn(twin, env, logs / "twin.log"))
        console.rule("碳算 tansuan — 演示 / demo")
        console.print(f"  仪表板 / dashboard: [bold]{base}/[/]   API: {base}/docs")
        for username, password, role in LOGINS:
            console.print(f"  登录 / login: [bold]{username}[/] / {password}  ({role})")
        if days > 2 * demo_sites.INTERVENTION_BEFORE_END and (
            link := _savings_link(settings.data_dir, site, base)
        ):
            console.print(f"  风机改造节能量 / fan-control saving: {link}")
            console.print(
                "    日型基线 R² < 0.5，页面标为“此基线模型不足以核证节能量” / the day-type "
                "baseline's R² is below 0.5: the page marks the saving not verifiable"
            )
        console.print(f"  日志 / logs: {logs}/serve.log, {logs}/twin.log")
        console.print("  Ctrl-C 停止 / stop")
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.5)
        for name, child in zip(("serve", "twin run"), children, strict=False):
            if child.poll() is not None:
                console.print(f"[bold red]错误 / error:[/] tansuan {name} stopped (see {logs})")
    except KeyboardInterrupt:
        pass
    except TansuanError as error:
        console.print(f"[bold red]错误 / error:[/] {error} (see {logs}/serve.log)")
    finally:
        # The simulator first (it feeds the gateways), then the server.
        for child in reversed(children):
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        console.print("已停止 / stopped")


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[Any]:
    """A child in its own process group (Ctrl-C reaches it through us, in order)."""
    with log.open("ab") as out:
        return subprocess.Popen(
            args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
