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
    trace: bool = typer.Option(
        False, "--trace", help="print where each parameter came from (the factor chain)"
    ),
    user: str | None = typer.Option(
        None, "--as", help="the carbon accountant who runs it (recorded as computed_by)"
    ),
) -> None:
    """Compute emissions from stored data, month by month / 按月核算排放量.

    Each source-month is saved as a new version only if its inputs changed; filed
    months get a proposal that an approver other than its proposer must accept. Exits 3
    when any source-month failed or is missing (each is listed with its reason and fix) /
    有核算失败或缺数据的月份时退出码为 3.
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
        store = opened.enter_context(closing(platform)).store
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
        if trace:  # each source-month's parameters with the step that supplied them
            out["traces"] = [
                {
                    "source": r.source_id,
                    "month": r.period,
                    "factor_chain": r.trace.get("factor_chain"),
                    "factors": r.trace.get("factors", []),
                }
                for r in report.computed
            ]
        typer.echo(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode())
        _exit_if_incomplete(report)
        return
    _print(console, report, lines, by)
    if trace:
        _print_trace(console, report)
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
            if c.state != "compared":
                verdict = "[red]缺失 missing[/]"  # an unknown value never passes
            else:
                verdict = "[red]⚠ 超限 flagged[/]" if c.flagged else "✓"
            table.add_row(
                c.period,
                "–"
                if c.calculated_co2_g is None
                else f"{grams_to_tonnes(c.calculated_co2_g):,.3f}",
                "–" if c.measured_co2_g is None else f"{grams_to_tonnes(c.measured_co2_g):,.3f}",
                diff,
                verdict,
            )
        console.print(table)
    _print_problems(console, report)
    _exit_if_incomplete(report)


#: Exit code of `tansuan account` when a source-month failed or is missing (docs/accounting.md).
INCOMPLETE_EXIT = 3


def _print_problems(console: Console, report: RunReport) -> None:
    """Each failed or missing source-month, with its reason and its fix."""
    found = report.problems()
    if not found:
        return
    table = Table(
        "来源 source",
        "月份 month",
        "状态 state",
        "原因 reason",
        "处理 fix",
        title="[red]未核算的月份 / months not computed — 数据不完整 incomplete[/]",
    )
    for r in found:
        state = {"failed": "失败 failed", "missing": "缺失 missing"}.get(r.state, r.state)
        table.add_row(r.source_id, r.period, state, r.problem or "", r.fix or "")
    console.print(table)


def _exit_if_incomplete(report: RunReport) -> None:
    if report.problems():
        raise typer.Exit(INCOMPLETE_EXIT)


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
        if r.state in ("failed", "missing"):
            row["grades"].add("✗")  # a month without a figure: the sum is incomplete
        row["known"] = row.get("known", False) or r.state == "computed"
        row["grades"].add(r.grade)
        row["notes"] += len(r.notes)
        row["cov"].append(r.coverage)
    table = Table(title=f"{report.site} {report.period.label} — 排放 emissions", show_footer=True)
    table.add_column("来源 source", footer="合计 total")
    table.add_column("方法 method")
    total_g = sum(v["g"] for v in per_source.values() if v["counted"])
    incomplete = " ✗" if report.problems() else ""  # months without a figure are not in it
    table.add_column(
        "CO2e t", justify="right", footer=f"{grams_to_tonnes(total_g):,.3f}{incomplete}"
    )
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
            f"{grams_to_tonnes(row['g']):,.3f}" if row.get("known") else "–",
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


#: How each step of the factor chain is named in ``--trace`` (docs/accounting.md).
STEP_LABELS = {
    "measured": "实测 measured",
    "site_model": "站点模型 site model",
    "sector_default": "行业缺省 sector default",
    "default": "缺省 default",
}


def _print_trace(console: Console, report: RunReport) -> None:
    """One table per source-month: each parameter, its value, the step that supplied it."""
    for r in report.computed:
        chain = r.trace.get("factor_chain") or {}
        series = chain.get("factor_series") or "–"
        table = Table(
            "参数 parameter",
            "值 value",
            "单位 unit",
            "步骤 step",
            "来源 source",
            title=f"{r.source_id} {r.period} — 参数来源 factor chain "
            f"(series {series}, {chain.get('factor_series_from', '–')})",
        )
        for item in r.trace.get("factors", ()):
            step = item.get("step")
            table.add_row(
                str(item.get("name")),
                f"{item.get('value'):g}",
                str(item.get("unit")),
                STEP_LABELS.get(str(step), str(step or "–")),
                str(item.get("factor_id") or item.get("source") or ""),
            )
        console.print(table)
