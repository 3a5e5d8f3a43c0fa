"""What every command shares: the Typer app, the consoles, ``fail`` and the store opener.

Nothing here imports the library at module level beyond :mod:`tansuan.errors`: every
command imports what it needs when it runs, so ``tansuan --help`` starts fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import typer
from rich.console import Console

from tansuan.errors import TansuanError, ValidationFailed

app = typer.Typer(
    rich_markup_mode=None,
    help="tansuan (碳算): count a plant's carbon precisely enough to trade on it.",
    no_args_is_help=True,
    add_completion=False,
)
site_app = typer.Typer(
    rich_markup_mode=None,
    help="Site model: validate and load / 站点模型：校验与加载",
    no_args_is_help=True,
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
    from tansuan import __version__

    console.print(f"tansuan {__version__}")


def open_store() -> Any:
    """The configured store (schema upgraded), opened with a live status."""
    from tansuan.store import Store

    with console.status("打开数据库 / opening the store …"):
        return Store()


@contextmanager
def store_session() -> Iterator[Any]:
    """The configured store, closed when the block ends."""
    store = open_store()
    try:
        yield store
    finally:
        store.close()


@contextmanager
def failing(code: int = 2) -> Iterator[ExitStack]:
    """The library calls of a command: a :class:`TansuanError` is printed the way users read
    it (:func:`fail`) and exits ``code``; whatever the block opened on the yielded stack (a
    store, a platform) is closed either way."""
    with ExitStack() as opened:
        try:
            yield opened
        except TansuanError as error:
            fail(error, code)
