"""CLI ``tansuan declare``: declared shutdowns, the one way a month without data is a zero.

``tansuan declare shutdown SOURCE --site S --from D --to D --reason TEXT [--evidence FILE]``
stores the declaration with the evidence file's SHA-256 and a ledger leaf (kind
``declaration``); ``tansuan declare list`` prints them. The rule is in docs/accounting.md.
"""

from __future__ import annotations

import datetime as dt
import getpass
from contextlib import closing
from pathlib import Path

import orjson
import typer
from rich.table import Table

from tansuan.cli.app import console, failing

declare_app = typer.Typer(
    help="Declare that a source did not run (a true zero) / 停运声明", no_args_is_help=True
)


def _who() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _day(text: str, option: str) -> dt.date:
    from tansuan.errors import InputError

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"{text!r} is not a date, e.g. 2025-03-01 / 日期格式应为 2025-03-01", field=option
        ) from None


@declare_app.command("shutdown")
def shutdown(
    source: str = typer.Argument(..., help="emission source id"),
    site: str = typer.Option(..., "--site", help="site id"),
    date_from: str = typer.Option(..., "--from", help="first local day shut down, 2025-03-01"),
    date_to: str = typer.Option(..., "--to", help="last local day shut down (inclusive)"),
    reason: str = typer.Option(..., "--reason", help="why the source did not run"),
    evidence: Path | None = typer.Option(
        None, "--evidence", help="evidence file (its SHA-256 goes into the ledger)"
    ),
) -> None:
    """Declare a shutdown: months without data in it count as 0 / 声明停运（无数据月份计为 0）."""
    from tansuan.accounting.declare import declare_shutdown
    from tansuan.platform import open_platform
    from tansuan.store.documents import current_model

    with failing(code=1) as opened:
        first, last = _day(date_from, "from"), _day(date_to, "to")
        platform = open_platform()
        store = opened.enter_context(closing(platform)).store
        stored = declare_shutdown(
            store,
            current_model(store),
            site=site,
            source=source,
            date_from=first,
            date_to=last,
            reason=reason,
            evidence=evidence,
            by=_who(),
            ledger=platform.ledger,
        )
    sha = f", SHA-256 {stored.evidence_sha256}" if stored.evidence_sha256 else ""
    console.print(
        f"已声明停运 / shutdown declared #{stored.id}: {stored.source_id} "
        f"{stored.date_from}..{stored.date_to} ({stored.reason}{sha}); "
        "重新核算 / re-run: tansuan account --stale"
    )


@declare_app.command("list")
def list_(
    site: str | None = typer.Option(None, "--site", help="only this site"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
) -> None:
    """List declared shutdowns / 列出停运声明."""
    from tansuan.accounting.declare import listed
    from tansuan.store import Store

    with failing(code=1) as opened:
        store = opened.enter_context(closing(Store()))
        found = listed(store, site)
    if as_json:
        rows = [
            {
                "id": d.id,
                "site": d.site_id,
                "source": d.source_id,
                "kind": d.kind,
                "from": d.date_from.isoformat(),
                "to": d.date_to.isoformat(),
                "reason": d.reason,
                "evidence": d.evidence_name,
                "evidence_sha256": d.evidence_sha256,
                "by": d.declared_by,
                "leaf_index": d.leaf_index,
            }
            for d in found
        ]
        typer.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
        return
    table = Table(
        "#",
        "站点 site",
        "来源 source",
        "从 from",
        "到 to",
        "原因 reason",
        "证明 evidence",
        "声明人 by",
        title="停运声明 / declared shutdowns",
    )
    for d in found:
        evidence = (
            f"{d.evidence_name} ({(d.evidence_sha256 or '')[:12]}…)" if d.evidence_name else "–"
        )
        table.add_row(
            str(d.id),
            d.site_id,
            d.source_id,
            d.date_from.isoformat(),
            d.date_to.isoformat(),
            d.reason,
            evidence,
            d.declared_by,
        )
    console.print(table)
