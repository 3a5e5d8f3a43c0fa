"""``tansuan …``: the command-line shell over the library. Nothing outside ``cli/`` imports it.

A command parses its arguments, calls one library function and renders what it returns.
Every module here imports the library inside its commands, not at module level, so that
``tansuan --help`` and ``tansuan hj212 decode`` start without loading the whole platform
(``bench/cli_startup.py`` measures it). Modules are imported below in the order the
commands appear in ``tansuan --help``.
"""

from __future__ import annotations

from tansuan.cli.app import app, console, err_console, fail

# isort: off
# Each of these registers its commands on ``app`` (or a sub-app) when imported, in the
# order ``tansuan --help`` lists them.
from tansuan.cli import gateway, config, ledger, calc, site, data  # noqa: F401
from tansuan.cli.account import account
from tansuan.cli.declare import declare_app
from tansuan.cli.filing import period_app, proposals_app
from tansuan.cli.report import report_app
from tansuan.cli.analyse import analyse, forecast
from tansuan.cli.position import position_app
from tansuan.cli.findings import findings
from tansuan.cli.enpi import enpi
from tansuan.cli.alerts import alerts
from tansuan.cli.serve import register as _register_serve
from tansuan.cli.twin import twin_app
from tansuan.cli.demo import demo
from tansuan.cli.signoff import signoff_app
from tansuan.cli import pack as _pack  # noqa: F401  (tansuan pack)

# isort: on

app.command("account")(account)
app.add_typer(declare_app, name="declare")
app.add_typer(period_app, name="period")
app.add_typer(proposals_app, name="proposals")
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
app.add_typer(signoff_app, name="signoff")

__all__ = ["app", "console", "err_console", "fail", "main"]


def main() -> None:
    """Console-script entry point."""
    app()
