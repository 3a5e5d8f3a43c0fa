"""Every command's ``--help`` renders, and units written in brackets survive.

Rich markup mode treated ``[/MAGNITUDE]`` in a help text as a closing tag (``tansuan twin
backfill --help`` crashed) and silently dropped ``[tCO2/MWh]``-style units; the CLI now
prints help as plain text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer
from typer.testing import CliRunner

from tansuan.cli import app


def _paths(command: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield prefix
    for name, sub in getattr(command, "commands", {}).items():
        yield from _paths(sub, (*prefix, name))


def test_every_help_renders() -> None:
    root = typer.main.get_command(app)
    paths = list(_paths(root))
    assert len(paths) > 40  # the whole tree was walked, not just the root
    runner = CliRunner()
    failed = {}
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        if result.exit_code != 0 or "Usage:" not in result.output:
            failed[" ".join(path)] = result.output[-300:] or repr(result.exception)
    assert not failed, failed


def test_units_in_brackets_are_printed() -> None:
    result = CliRunner().invoke(app, ["analyse", "--help"])
    assert result.exit_code == 0
    assert "[tCO2/MWh]" in result.output
    backfill = CliRunner().invoke(app, ["twin", "backfill", "--help"])
    assert "START/MINUTES[/MAGNITUDE]" in backfill.output
