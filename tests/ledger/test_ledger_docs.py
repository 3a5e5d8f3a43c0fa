"""docs/ledger.md documents every finding, command and setting the ledger has."""

from __future__ import annotations

from pathlib import Path

from tansuan.cli.ledger import ledger_app
from tansuan.ledger.canonical import KINDS
from tansuan.ledger.verify import LABELS_ZH

DOC = (Path(__file__).resolve().parents[2] / "docs" / "ledger.md").read_text("utf-8")


def test_every_finding_code_is_documented_with_its_label() -> None:
    for code, label in LABELS_ZH.items():
        assert f"| `{code}` | {label} |" in DOC, code


def test_every_command_kind_and_setting_is_documented() -> None:
    for command in ledger_app.registered_commands:
        assert f"tansuan ledger {command.name}" in DOC, command.name
    for kind in KINDS:
        assert f"| `{kind}` |" in DOC, kind
    assert "TANSUAN_LEDGER_STH_INTERVAL_S" in DOC
    assert "tansuan verify --report" in DOC
