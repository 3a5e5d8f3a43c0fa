"""``tansuan …``: a thin shell over the library. Every command and option has help.

User-facing messages are bilingual (zh-CN / en).
"""

from __future__ import annotations

from pathlib import Path

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

# Gateways run alone: `tansuan gateway mqtt|modbus|opcua` (tansuan.gateways.cli).
from tansuan.gateways.cli import gateway_app  # noqa: E402

app.add_typer(gateway_app, name="gateway")

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


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
