"""``tansuan …``: a thin shell over the library. Every command and option has help.

User-facing messages are bilingual (zh-CN / en).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from tansuan import __version__
from tansuan.errors import TansuanError, ValidationFailed

app = typer.Typer(
    help="tansuan (碳算): count a plant's carbon precisely enough to trade on it.",
    no_args_is_help=True,
    add_completion=False,
)
site_app = typer.Typer(
    help="Site model: validate and load / 站点模型：校验与加载", no_args_is_help=True
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


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
