"""``tansuan calc``: the emissions of an activity-data file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from tansuan.cli.app import app, console, fail
from tansuan.errors import TansuanError


@app.command()
def calc(
    file: Path = typer.Argument(..., help="activity-data YAML (see examples/plant.yaml)"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
) -> None:
    """Compute the emissions of an activity-data file / 计算活动数据文件的排放量."""
    import orjson

    from tansuan.accounting.activity_file import calculate_file

    try:
        calculation = calculate_file(file)
    except TansuanError as error:
        fail(error, code=1)
    if as_json:
        typer.echo(orjson.dumps(calculation.as_json(), option=orjson.OPT_INDENT_2).decode())
        return
    _print_calculation(calculation, file)


#: How each scope is labelled in the tables (GHG Protocol Corporate Standard ch. 4; Scope 2
#: Guidance ch. 4: dual reporting).
SCOPE_LABELS = {
    "1": "范围一 Scope 1",
    "2-location": "范围二 Scope 2 (基于位置 location-based)",
    "2-market": "范围二 Scope 2 (基于市场 market-based)",
    "3": "范围三 Scope 3",
}


def _print_calculation(calculation: Any, file: Path) -> None:
    """The results as a Rich table, the totals by scope, then every default factor used.

    The total counts Scope 1 and location-based Scope 2 (and Scope 3); market-based
    Scope 2 is shown beside it, never added (GHG Protocol Scope 2 Guidance, dual reporting).
    """
    from rich.table import Table

    from tansuan.domain.scope import in_total

    title = (
        f"{file.name} — 排放 emissions (GWP {calculation.gwp_set}"
        + (f", {calculation.year}" if calculation.year else "")
        + (f", {calculation.region}" if calculation.region else "")
        + ")"
    )
    table = Table(title=title, show_footer=True)
    table.add_column("来源 source", footer="合计 total")
    table.add_column("方法 method")
    table.add_column("范围 scope")
    table.add_column("CO2 t", justify="right", no_wrap=True)
    table.add_column("其他 other", justify="right")
    table.add_column(
        "CO2e t", justify="right", no_wrap=True, footer=f"{calculation.total_co2e_t:,.3f}"
    )
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
            "–" if outcome.scope is None else str(outcome.scope.value),
            f"{co2:,.3f}" if co2 is not None else "–",
            other or "–",
            f"{outcome.co2e_t:,.3f}",
            str(len(used)) if used else "–",
        )
    console.print(table)
    scopes = Table(title="按范围 by scope (tCO2e)")
    scopes.add_column("范围 scope")
    scopes.add_column("CO2e t", justify="right")
    scopes.add_column("计入合计 in total")
    for scope, tonnes in calculation.by_scope_co2e_t.items():
        counted = in_total(scope)
        scopes.add_row(
            SCOPE_LABELS.get(scope, scope),
            f"{tonnes:,.3f}",
            "是 yes" if counted else "否 no — 并列报告 reported beside",
        )
    console.print(scopes)
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
