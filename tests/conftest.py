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


def require_pg_url() -> str:
    """The test PostgreSQL URL; skipped locally without one, a failure in CI."""
    url = pg_url()
    if url is None:
        if os.environ.get("CI"):
            pytest.fail("CI must provide PostgreSQL: TANSUAN_TEST_PG_URL is not set")
        pytest.skip("no PostgreSQL configured: set TANSUAN_TEST_PG_URL (.ci/run does)")
    return url
