"""Engines and schema upgrades."""

from __future__ import annotations

import threading

import pytest

from tansuan.errors import ConfigError
from tansuan.store import Store
from tansuan.store import engine as engines


def test_schema_is_created_on_first_open_and_upgrade_is_idempotent(db_url: str) -> None:
    store = Store(db_url)
    assert engines.current_revision(store.engine) == engines.head_revision()
    assert engines.upgrade(store.engine) == (engines.head_revision(), engines.head_revision())
    store.close()


def test_migrated_store_keeps_ledger_records_uncompressed_on_postgres(db_url: str) -> None:
    """Migration 0005: on PostgreSQL the ledger's record column is EXTERNAL (attstorage
    'e': out of line, no pglz attempt); SQLite has no such setting."""
    store = Store(db_url)
    try:
        with store.engine.connect() as c:
            if store.engine.dialect.name != "postgresql":
                assert store.is_sqlite
                return
            storage = c.exec_driver_sql(
                "SELECT attstorage FROM pg_attribute "
                "WHERE attrelid = 'ledger_leaves'::regclass AND attname = 'body'"
            ).scalar()
        assert storage == "e"
    finally:
        store.close()


def test_concurrent_first_opens_do_not_collide(db_url: str) -> None:
    errors: list[BaseException] = []

    def open_store() -> None:
        try:
            Store(db_url).close()
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_sqlite_pragmas_follow_settings(tmp_path) -> None:
    from tansuan.settings import Settings

    store = Store(f"sqlite:///{tmp_path / 'n.db'}", settings=Settings(sqlite_synchronous="NORMAL"))
    with store.read() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    store.close()
    default = Store(f"sqlite:///{tmp_path / 'f.db'}", settings=Settings())
    with default.read() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    default.close()


def test_unsupported_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unsupported database"):
        engines.make_engine("mysql://localhost/x")
    with pytest.raises(ConfigError, match="not a database URL"):
        engines.make_engine("::::")
