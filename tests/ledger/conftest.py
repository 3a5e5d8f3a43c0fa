"""Ledger fixtures: an engine on SQLite (always) and PostgreSQL (TANSUAN_TEST_PG_URL)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from tansuan.ledger.log import Ledger
from tansuan.ledger.schema import create_tables
from tansuan.ledger.schema import metadata as ledger_metadata
from tansuan.ledger.signing import key_dir, load_or_create_key

from . import readings_table


def _fresh(engine: Engine) -> Engine:
    readings_table.metadata.drop_all(engine)
    ledger_metadata.drop_all(engine)
    create_tables(engine)
    readings_table.metadata.create_all(engine)
    return engine


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        db = create_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    else:
        url = os.environ.get("TANSUAN_TEST_PG_URL")
        if url is None:
            pytest.skip("PostgreSQL tests need TANSUAN_TEST_PG_URL (.ci/run sets it)")
        db = create_engine(url)
    yield _fresh(db)
    if request.param == "postgresql":
        _fresh(db)
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
