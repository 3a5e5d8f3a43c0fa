"""``tansuan period file|reopen`` and ``tansuan proposals list|accept|reject``: the
four-eyes workflow (:mod:`tansuan.views.filing`). ``--as USER`` names who acts; their
role decides what they may do (carbon_accountant files, approver decides, admin either)."""

from __future__ import annotations

from contextlib import closing
from typing import Any

import orjson
import typer

from tansuan.cli.app import console, failing

period_app = typer.Typer(
    rich_markup_mode=None,
    help="Filed months: file and reopen / 月份报送：报送与重新开放",
    no_args_is_help=True,
)
proposals_app = typer.Typer(
    rich_markup_mode=None,
    help="Recalculations of filed months: list, accept, reject / 已报送月份的重算提议",
    no_args_is_help=True,
)

AS_USER = typer.Option(..., "--as", help="the user who acts (their role is checked) / 操作用户")


def _open(opened: Any) -> tuple[Any, Any]:
    from tansuan.platform import open_platform

    platform = open_platform()
    opened.enter_context(closing(platform))
    return platform.store, platform.ledger


@period_app.command("file")
def period_file(
    site: str = typer.Option(..., "--site", help="site id"),
    period: str = typer.Option(..., "--period", help="2025, 2025-03, 2025-Q1 or a..b"),
    user: str = AS_USER,
    reason: str = typer.Option("", "--reason", help="note kept with the filing / 说明"),
) -> None:
    """File months: later recalculations become proposals / 报送月份（锁定结果）."""
    from tansuan.views import filing

    with failing(code=1) as opened:
        store, ledger = _open(opened)
        done = filing.file(store, ledger, filing.principal(store, user), site, period, reason)
    for month in done:
        versions = ", ".join(f"{s} v{v}" for s, v, _, _ in month["sets"])
        console.print(f"[green]✓[/] 已报送 / filed {site} {month['period']}: {versions}")


@period_app.command("reopen")
def period_reopen(
    site: str = typer.Option(..., "--site", help="site id"),
    period: str = typer.Option(..., "--period", help="2025, 2025-03, 2025-Q1 or a..b"),
    user: str = AS_USER,
    reason: str = typer.Option(..., "--reason", help="why the month is reopened / 理由"),
) -> None:
    """Reopen filed months (an approver other than the filer) / 重新开放已报送月份."""
    from tansuan.views import filing

    with failing(code=1) as opened:
        store, ledger = _open(opened)
        months = filing.reopen(store, ledger, filing.principal(store, user), site, period, reason)
    console.print(f"[green]✓[/] 已重新开放 / reopened {site} {', '.join(months)}")


@proposals_app.command("list")
def proposals_list(
    site: str = typer.Option(..., "--site", help="site id"),
    period: str | None = typer.Option(None, "--period", help="only these months"),
    user: str = AS_USER,
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
) -> None:
    """Pending proposals beside the filed figures / 待决定的重算提议."""
    from tansuan.views import filing

    with failing(code=1) as opened:
        store, _ = _open(opened)
        found = filing.proposals(store, filing.principal(store, user), site, period)
    if as_json:
        typer.echo(orjson.dumps(found, option=orjson.OPT_INDENT_2).decode())
        return
    if not found["proposals"]:
        console.print(f"没有待决定的提议 / no pending proposals for {site}")
        return
    console.print(f"{site} — 待决定的重算提议 / pending proposals (已报送 filed → 提议 proposed):")
    for p in found["proposals"]:
        console.print(
            f"  #{p['id']} {p['period']} {p['source']} v{p['current_version'] or '—'} → "
            f"v{p['version']}: {filing.tonnes_text(p['current_co2e_t'])} t → "
            f"{filing.tonnes_text(p['co2e_t'])} t "
            f"({filing.tonnes_text(p['difference_t'], '+,.3f')} t), "
            f"提议人 by {p['computed_by'] or '—'}; {p['reason']}",
            soft_wrap=True,
        )


@proposals_app.command("accept")
def proposals_accept(
    proposal: int = typer.Argument(..., help="proposal id (see `tansuan proposals list`)"),
    user: str = AS_USER,
    reason: str = typer.Option("", "--reason", help="note kept with the decision / 说明"),
) -> None:
    """Accept a proposal: it becomes the filed figure / 接受重算提议."""
    from tansuan.views import filing

    with failing(code=1) as opened:
        store, ledger = _open(opened)
        done = filing.accept(store, ledger, filing.principal(store, user), proposal, reason)
    console.print(
        f"[green]✓[/] 已接受 / accepted {done['source']} {done['period']} v{done['version']}"
    )


@proposals_app.command("reject")
def proposals_reject(
    proposal: int = typer.Argument(..., help="proposal id (see `tansuan proposals list`)"),
    user: str = AS_USER,
    reason: str = typer.Option(..., "--reason", help="why it is rejected / 驳回理由"),
) -> None:
    """Reject a proposal: the filed figure stays / 驳回重算提议."""
    from tansuan.views import filing

    with failing(code=1) as opened:
        store, ledger = _open(opened)
        done = filing.reject(store, ledger, filing.principal(store, user), proposal, reason)
    console.print(
        f"[green]✓[/] 已驳回 / rejected {done['source']} {done['period']} v{done['version']}"
    )
