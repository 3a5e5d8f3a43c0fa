"""Shared fixtures. PostgreSQL tests run when TANSUAN_TEST_PG_URL is set (.ci/run sets it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@pytest.fixture
def examples() -> Path:
    return EXAMPLES


def pg_url() -> str | None:
    """The test PostgreSQL URL, or None when no server is configured."""
    return os.environ.get("TANSUAN_TEST_PG_URL")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In CI a missing PostgreSQL is an error, not a silent skip."""
    if os.environ.get("CI") and not pg_url():
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(pytest.mark.xfail(reason="CI without PostgreSQL", strict=True))
