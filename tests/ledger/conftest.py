"""Ledger fixtures: an engine on SQLite (always) and PostgreSQL (TANSUAN_TEST_PG_URL).

The database is the store's, built by its migrations (the ledger's tables are the
store's), plus the small readings table the ledger tests ingest into.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from tansuan.ledger.log import Ledger
from tansuan.ledger.signing import key_dir, load_or_create_key
from tansuan.store.engine import upgrade

from . import readings_table


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A fresh database (``db_url``: a SQLite file, or a private PostgreSQL schema) at the
    store's newest revision, with the test readings table."""
    db = create_engine(db_url)
    upgrade(db)
    readings_table.metadata.create_all(db)
    yield db
    db.dispose()


class Clock:
    """A clock that advances one second per call (STH timestamps stay distinct)."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(seconds=1)
        return self.now


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(load_or_create_key(key_dir(tmp_path / "var")), clock=Clock())
