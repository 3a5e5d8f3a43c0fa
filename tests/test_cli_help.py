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


def test_settings_prints_every_variable_name_whole_at_80_columns() -> None:
    """Issue 18 #18: at 80 columns every ``TANSUAN_…`` name is printed whole (the table
    cut ``TANSUAN_HJ212_MAX_CONNECTIONS_PER_ADDRESS``), with its value and help; secret
    values are not printed."""
    import re

    from tansuan.settings import Settings

    result = CliRunner().invoke(
        app, ["settings"], env={"COLUMNS": "80", "TANSUAN_INGEST_TOKEN": "tok-very-secret"}
    )
    assert result.exit_code == 0, result.output
    names = set(re.findall(r"TANSUAN_[A-Z0-9_]+", result.output))
    missing = {f"TANSUAN_{n.upper()}" for n in Settings.model_fields} - names
    assert not missing, missing
    assert "TANSUAN_HJ212_MAX_CONNECTIONS_PER_ADDRESS = 100" in result.output
    assert "tok-very-secret" not in result.output
    assert "Most HJ 212 loggers connected at once" in " ".join(result.output.split())
