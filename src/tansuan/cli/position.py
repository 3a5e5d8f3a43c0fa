"""CLI ``tansuan position``: a site's allowance account in the store and its position.

``tansuan position --site S [--year Y]`` prints the compliance position; the subcommands
change the account: ``import FILE.yaml`` (the compliance-file format of
:mod:`tansuan.market.holdings`), ``trade add`` / ``trade cancel``, ``set`` (entered
allocation, verified emissions, banked allowances, price). Every change is a new version
or a trade row with who and when, and a ledger leaf (kind ``allowance``).
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.table import Table

from tansuan.cli.app import console, fail
from tansuan.errors import InputError, NotFound, TansuanError

position_app = typer.Typer(
    help="Allowance accounts and the compliance position / 配额账户与履约头寸",
    invoke_without_command=True,
)
trade_app = typer.Typer(help="Trades of an account / 配额交易", no_args_is_help=True)
position_app.add_typer(trade_app, name="trade")


def _who() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@contextmanager
def _store() -> Iterator[Any]:
    from tansuan.store import Store

    store = Store()
    try:
        yield store
    finally:
        store.close()


def _write(site: str, change: Callable[[Any, Any, str], Any]) -> Any:
    """Run ``change(connection, ledger, org)`` in one write transaction of the store."""
    from tansuan.ledger import Ledger
    from tansuan.settings import get_settings
    from tansuan.store.grants import site_org

    settings = get_settings()
    ledger = Ledger.from_data_dir(settings.data_dir, witness_url=settings.ledger_witness_url)
    with _store() as store:
        with store.write() as conn:
            try:
                org = site_org(conn, site)
            except NotFound:
                raise NotFound(f"没有站点 / no site {site!r}: `tansuan site load` first") from None
            done = change(conn, ledger, org)
        ledger.sign_pending(store.engine)  # the leaves this command appended get a tree head
        return done


def _latest_year(conn: Any, org: str, site: str) -> int:
    from tansuan.store import market as db

    years = db.account_years(conn, org, site)
    if not years:
        raise NotFound(
            f"站点 {site} 没有配额账户 / {site} has no allowance account: "
            f"`tansuan position import FILE.yaml --site {site}`"
        )
    return years[-1]


@position_app.callback()
def position(
    ctx: typer.Context,
    site: str | None = typer.Option(None, "--site", help="site id (its account)"),
    year: int | None = typer.Option(None, "--year", help="compliance year (default: latest)"),
    emissions: float | None = typer.Option(None, "--emissions", help="forecast emissions (tCO2)"),
    sd: float | None = typer.Option(None, "--sd", help="standard deviation of the forecast (tCO2)"),
    price: float | None = typer.Option(
        None, "--price", help="allowance price (money/t) (overrides the account's)"
    ),
    scope: str | None = typer.Option(None, "--scope", help="forecast only this scope's results"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Allowance position: emissions vs holdings / 配额盈缺与履约风险.

    Emissions come from --emissions/--sd, else the account's verified emissions, else the
    months of the site accounted so far plus the forecast of the rest of the year, else
    the account's `emissions`.
    """
    if ctx.invoked_subcommand is not None:
        return
    from tansuan.analytics.findings import ShiftCalendar
    from tansuan.market import accounts
    from tansuan.settings import get_settings
    from tansuan.store.documents import current_model
    from tansuan.store.grants import site_org
    from tansuan.views.forecast import LOCATION_BASED
    from tansuan.views.position import site_position

    try:
        if site is None:
            raise InputError("请给出站点 / give --site", field="site")
        given = None if emissions is None else (emissions, sd or 0.0)
        calendar = ShiftCalendar.from_text(get_settings().shift_calendar)
        with _store() as store, store.read() as conn:
            try:
                org = site_org(conn, site)
            except NotFound:
                raise NotFound(f"没有站点 / no site {site!r}") from None
            the_year = year or _latest_year(conn, org, site)
            site_model = current_model(store).site(site)
            with console.status("预测排放 / forecasting emissions …"):
                stored, out = site_position(conn, org, site_model, the_year, price=price,
                                            given=given, scope=scope or LOCATION_BASED,
                                            working_days=calendar.working_days)  # fmt: skip
    except TansuanError as error:
        fail(error, code=1)
    out = {"site": site} | out | {"account": accounts.record(stored)}
    if as_json:
        typer.echo(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode())
        return
    _print(out)


def _print(out: dict[str, Any]) -> None:
    p, acc = out["position"], out["account"]
    table = Table("项 / item", "值 / value",
                  title=f"{out['entity']} {out['year']} 履约头寸 / compliance position "
                  f"(v{acc['version']})")  # fmt: skip
    rows = [
        (f"排放 / emissions t ({out['emissions_basis']})",
         f"{p['emissions']:,.0f} ± {p['emissions_sd']:,.0f}"),
        ("清缴义务 / obligation t", f"{p['obligation']:,.0f}"),
        ("免费配额 / free allocation t", f"{acc['free_allocation_t']:,.0f}"),
        ("持有 CEA / CEA held t", f"{p['cea']:,.0f}"),
        ("可用 CCER / CCER usable t", f"{p['ccer_usable']:,.0f}"),
        ("缺口 / shortfall t", f"{p['shortfall']:,.0f}"),
        ("盈余 / surplus t", f"{p['surplus']:,.0f}"),
        ("缺口价值 / shortfall value", f"{p['shortfall_value']:,.0f}"),
        ("缺口概率 / P(shortfall)", f"{p['shortfall_probability']:.1%}"),
    ]  # fmt: skip
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    if acc["trades"]:
        trades = Table("#", "日期 / date", "方向 / side", "品种 / instrument", "数量 / t",
                       "价格 / price", "状态 / state", title="交易 / trades")  # fmt: skip
        for t in acc["trades"]:
            state = "有效 / open" if t["cancelled_at"] is None else "已撤销 / cancelled"
            trades.add_row(str(t["id"]), t["date"], t["side"], t["instrument"],
                           f"{t['quantity_t']:,.0f}", f"{t['price']:,.2f}", state)  # fmt: skip
        console.print(trades)


@position_app.command("import")
def import_file(
    file: Path = typer.Argument(..., help="compliance YAML (format: module docs / docs)"),
    site: str | None = typer.Option(None, "--site", help="site id (default: the file's entity)"),
) -> None:
    """Import a compliance YAML as the site's account for its year / 导入配额账户文件.

    The file is checked first (every problem listed); nothing stored changes when it is
    refused. Importing makes a new version of the account when a value differs, adds the
    file's trades and cancels the open trades not in the file.
    """
    from tansuan.market import accounts
    from tansuan.market.holdings import parse_yaml

    try:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"无法读取 / cannot read {file}: {exc}", field="file") from None
        raw = parse_yaml(text, where=str(file))
        doc = accounts.parse(raw, str(file))
        target = site or doc.entity
        done = _write(target, lambda conn, ledger, org: accounts.import_file(
            conn, ledger, org, target, raw, by=_who(), where=file.name))  # fmt: skip
    except TansuanError as error:
        fail(error, code=1)
    version = done["version"]
    state = f"v{version}" if version is not None else "未变 / unchanged"
    console.print(
        f"已导入 / imported {done['entity']} {done['year']} → {target}: 账户 / account {state}, "
        f"交易 / trades +{done['trades_added']} −{done['trades_cancelled']}, "
        f"免费配额 / free allocation {done['free_allocation_t']:,.0f} t"
    )


@trade_app.command("add")
def trade_add(
    site: str = typer.Option(..., "--site", help="site id"),
    year: int = typer.Option(..., "--year", help="compliance year of the account"),
    date: str = typer.Option(..., "--date", help="trade date YYYY-MM-DD"),
    side: str = typer.Option(..., "--side", help="buy or sell"),
    instrument: str = typer.Option(..., "--instrument", help="CEA or CCER"),
    quantity: float = typer.Option(..., "--quantity", help="(t)"),
    price: float = typer.Option(..., "--price", help="(money/t)"),
    note: str = typer.Option("", "--note", help="free text (contract, counterparty)"),
) -> None:
    """Add a trade to an account / 新增配额交易."""
    from tansuan.market import accounts

    raw = {"date": date, "side": side, "instrument": instrument, "quantity": quantity,
           "price": price}  # fmt: skip
    try:
        trade_id = _write(site, lambda conn, ledger, org: accounts.add_trade(
            conn, ledger, org, site, year, raw, by=_who(), note=note))  # fmt: skip
    except TansuanError as error:
        fail(error, code=1)
    console.print(f"已记录交易 / trade #{trade_id} recorded: {side} {quantity:,.0f} t {instrument}")


@trade_app.command("cancel")
def trade_cancel(
    trade_id: int = typer.Argument(..., help="trade number (from `tansuan position`)"),
    site: str = typer.Option(..., "--site", help="site id"),
) -> None:
    """Cancel a trade (kept, marked cancelled) / 撤销配额交易."""
    from tansuan.market import accounts

    try:
        _write(site, lambda conn, ledger, org: accounts.cancel_trade(
            conn, ledger, org, site, trade_id, by=_who()))  # fmt: skip
    except TansuanError as error:
        fail(error, code=1)
    console.print(f"已撤销交易 / trade #{trade_id} cancelled")


@position_app.command("set")
def set_values(
    site: str = typer.Option(..., "--site", help="site id"),
    year: int = typer.Option(..., "--year", help="compliance year"),
    allocation: float | None = typer.Option(None, "--allocation", help="entered allocation (t)"),
    verified: float | None = typer.Option(None, "--verified", help="verified emissions (t)"),
    clear_verified: bool = typer.Option(False, "--clear-verified", help="forget them"),
    banked: float | None = typer.Option(None, "--banked", help="banked allowances (t)"),
    price: float | None = typer.Option(None, "--price", help="(money/t) to value a shortfall"),
    entity: str | None = typer.Option(
        None, "--entity", help="compliance entity name (creates the account if need be)"
    ),
) -> None:
    """Set entered allocation, verified emissions, banking or price / 录入配额、核查排放等."""
    from tansuan.market import accounts

    values: dict[str, float | None] = {
        k: v for k, v in (("allocation", allocation), ("verified", verified),
                          ("banked", banked), ("price", price)) if v is not None
    }  # fmt: skip
    if clear_verified:
        values["verified"] = None
    try:
        if not values and entity is None:
            raise InputError("没有要修改的值 / nothing to set: give --allocation, --verified, "
                             "--banked or --price", field="values")  # fmt: skip
        version = _write(site, lambda conn, ledger, org: accounts.set_values(
            conn, ledger, org, site, year, values, by=_who(), entity=entity))  # fmt: skip
    except TansuanError as error:
        fail(error, code=1)
    state = f"v{version}" if version is not None else "未变 / unchanged"
    console.print(f"{site} {year} 账户 / account: {state}")
