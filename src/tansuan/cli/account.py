"""``tansuan account``: compute a site's emissions for a period and print them."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from tansuan.cli.app import console, failing
from tansuan.domain.scope import in_total

if TYPE_CHECKING:
    from tansuan.accounting.engine import Accountant, RunReport


def account(
    site: str = typer.Option(..., "--site", help="site id"),
    period: str = typer.Option(..., "--period", help="2025, 2025-03, 2025-Q1 or a..b"),
    model_file: Path | None = typer.Option(
        None, "--model", help="site-model YAML (default: the model last loaded into the store)"
    ),
    source: list[str] = typer.Option([], "--source", help="only these sources (repeatable)"),
    by: str = typer.Option("source", "--by", help="group totals by source|scope|gas|node|carrier"),
    stale_only: bool = typer.Option(False, "--stale", help="recalculate stale months only"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of tables"),
    user: str | None = typer.Option(
        None, "--as", help="the carbon accountant who runs it (recorded as computed_by)"
    ),
) -> None:
    """Compute emissions from stored data, month by month / 按月核算排放量.

    Each source-month is saved as a new version only if its inputs changed; filed
    months get a proposal that an approver other than its proposer must accept.
    """
    from tansuan.accounting.engine import Accountant
    from tansuan.accounting.filing import proposal_hook
    from tansuan.accounting.periods import parse_period
    from tansuan.accounting.rollup import grams_to_tonnes
    from tansuan.platform import ledger_result_hook, open_platform
    from tansuan.views.emissions import run_record

    with failing(code=1) as opened:
        chosen = parse_period(period)
        platform = open_platform()
        store = opened.enter_context(closing(platform.store))
        model = _model(store, model_file)
        actor = None
        if user is not None:
            from tansuan.views.filing import own_site, principal

            actor = principal(store, user)
            with store.read() as conn:
                own_site(conn, actor, site)
        hooks = [ledger_result_hook(platform.ledger), proposal_hook(platform.ledger, actor)]
        accountant = Accountant(store, model, hooks=hooks)
        if stale_only:
            report = accountant.recalculate_stale(site)
        else:
            report = _run_with_progress(accountant, site, chosen, list(source) or None)
        lines = accountant.lines(site, chosen)
        checks = accountant.cross_checks(site, chosen, platform.settings.crosscheck_threshold)
    if as_json:
        out = run_record(report, lines, by, checks)
        typer.echo(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode())
        return
    _print(console, report, lines, by)
    for pair, found in checks.items():
        calc, cems = pair.split("~")
        table = Table(
            "月份 month",
            "计算 calc t",
            "实测 CEMS t",
            "差异 diff",
            "",
            title=f"交叉核验 cross-check: {calc} vs {cems} (CEMS)",
        )
        for c in found:
            diff = "–" if c.relative_difference is None else f"{c.relative_difference:+.2%}"
            table.add_row(
                c.period,
                f"{grams_to_tonnes(c.calculated_co2_g):,.3f}",
                f"{grams_to_tonnes(c.measured_co2_g):,.3f}",
                diff,
                "[red]⚠ 超限 flagged[/]" if c.flagged else "✓",
            )
        console.print(table)


def _model(store: Any, model_file: Path | None) -> Any:
    from tansuan.site.validate import load

    if model_file is not None:
        return load(model_file)
    from tansuan.store.documents import current_model

    return current_model(store)


def _run_with_progress(
    accountant: Accountant, site: str, period: Any, sources: list[str] | None
) -> RunReport:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("核算 / accounting"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task("run", total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return accountant.run(site, period, sources=sources, progress=tick)


def _print(console: Console, report: RunReport, lines: list[Any], by: str) -> None:
    from tansuan.accounting.rollup import grams_to_tonnes, rollup

    per_source: dict[str, dict[str, Any]] = {}
    for r in report.computed:
        row = per_source.setdefault(
            r.source_id,
            {"method": r.method, "g": 0, "grades": set(), "notes": 0, "cov": [],
             "counted": r.counted},
        )  # fmt: skip
        row["g"] += sum(ln.co2e_g for ln in r.lines if in_total(ln.scope))
        row["grades"].add(r.grade)
        row["notes"] += len(r.notes)
        row["cov"].append(r.coverage)
    table = Table(title=f"{report.site} {report.period.label} — 排放 emissions", show_footer=True)
    table.add_column("来源 source", footer="合计 total")
    table.add_column("方法 method")
    total_g = sum(v["g"] for v in per_source.values() if v["counted"])
    table.add_column("CO2e t", justify="right", footer=f"{grams_to_tonnes(total_g):,.3f}")
    table.add_column("质量 grade")
    table.add_column("覆盖 coverage", justify="right")
    table.add_column("说明 notes", justify="right")
    for source_id, row in per_source.items():
        coverage = sum(row["cov"]) / len(row["cov"]) if row["cov"] else 0.0
        table.add_row(
            source_id
            if row["counted"]
            else f"{source_id} [dim](核验 check, 不计入 not in total)[/]",
            row["method"],
            f"{grams_to_tonnes(row['g']):,.3f}",
            "/".join(sorted(row["grades"])),
            f"{coverage:.1%}",
            str(row["notes"]) if row["notes"] else "–",
        )
    console.print(table)
    if report.provisional:  # the period is not complete: its figures can still change
        console.print(f"[yellow]⚠ {report.provisional_reason}[/]")
    if by != "source":
        totals = rollup([ln for ln in lines if in_total(ln.scope)], by)
        grouped = Table(f"按 {by} / by {by}", "CO2e t")
        for key, grams in sorted(totals.items()):
            grouped.add_row(key, f"{grams_to_tonnes(grams):,.3f}")
        console.print(grouped)
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes().items()))
    console.print(f"版本 / versions: {outcomes or 'none'}")
    for source_id, month, error in report.errors:
        console.print(f"[red]✗[/] {source_id} {month}: {error}")
