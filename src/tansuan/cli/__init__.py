"""``tansuan …``: the command-line shell over the library. Nothing outside ``cli/`` imports it.

A command parses its arguments, calls one library function and renders what it returns.
Every module here imports the library inside its commands, not at module level, so that
``tansuan --help`` and ``tansuan hj212 decode`` start without loading the whole platform
(``bench/cli_startup.py`` measures it). Modules are imported below in the order the
commands appear in ``tansuan --help``.
"""

from __future__ import annotations

# Each of these registers its commands on ``app`` (or a sub-app) when imported.
from tansuan.cli import calc, config, data, gateway, ledger, site  # noqa: E402, F401, I001
from tansuan.cli.account import account  # noqa: E402
from tansuan.cli.alerts import alerts  # noqa: E402
from tansuan.cli.analyse import analyse, forecast  # noqa: E402
from tansuan.cli.app import app, console, err_console, fail
from tansuan.cli.demo import demo  # noqa: E402
from tansuan.cli.enpi import enpi  # noqa: E402
from tansuan.cli.findings import findings  # noqa: E402
from tansuan.cli.position import position_app  # noqa: E402
from tansuan.cli.report import report_app  # noqa: E402
from tansuan.cli.serve import register as _register_serve  # noqa: E402
from tansuan.cli.twin import twin_app  # noqa: E402

app.command("account")(account)
app.add_typer(report_app, name="report")
app.command("analyse")(analyse)
app.command("forecast")(forecast)
app.add_typer(position_app, name="position")
app.command("findings")(findings)
app.command("enpi")(enpi)
app.command("alerts")(alerts)
_register_serve(app)
app.add_typer(twin_app, name="twin")
app.command("demo")(demo)

__all__ = ["app", "console", "err_console", "fail", "main"]


def main() -> None:
    """Console-script entry point."""
    app()
