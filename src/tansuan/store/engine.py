"""Engines for the store: SQLite (WAL, one writer) and PostgreSQL, and schema upgrades.

SQLite connections run with ``isolation_level=None`` so SQLAlchemy's ``begin`` event
decides how a transaction starts: ``BEGIN IMMEDIATE`` for writers (a connection with the
execution option ``tansuan_write=True``) so two writers queue on the database lock
instead of failing half-way, plain ``BEGIN`` for readers.
"""

from __future__ import annotations

import sqlite3
import time
from importlib.resources import files
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from tansuan.errors import ConfigError

#: Seconds a SQLite connection waits for another writer before failing.
SQLITE_BUSY_TIMEOUT_S = 60


def is_sqlite(engine: Engine | Connection) -> bool:
    """True when the engine (or connection) talks to SQLite."""
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, sqlite_synchronous: str = "FULL") -> Engine:
    """Create the engine for ``url``; a SQLite file's folder is created if missing."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy.exc.ArgumentError and friends
        raise ConfigError(f"not a database URL: {url!r} ({exc})", field="database_url") from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S},
        )
        synchronous = sqlite_synchronous.upper()

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
            _ensure_wal(cursor)
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute("PRAGMA cache_size=-32768")  # 32 MiB page cache
            cursor.execute("PRAGMA temp_store=MEMORY")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Connection) -> None:
            write = connection.get_execution_options().get("tansuan_write", False)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed, pool_pre_ping=True)
    raise ConfigError(
        f"unsupported database {parsed.get_backend_name()!r}; use sqlite or postgresql",
        field="database_url",
    )


def _ensure_wal(cursor: Any) -> None:
    """Switch a new database file to WAL once; later connections find it already set.

    Switching needs an exclusive lock, which SQLite may refuse at once (without waiting
    for the busy timeout) while another process's first connection is migrating the same
    new file: retry for a while instead of failing the open.
    """

    if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
        return
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _alembic_config(connection: Connection) -> Any:
    config = Config()
    config.set_main_option("script_location", str(files("tansuan.store") / "migrations"))
    config.attributes["connection"] = connection
    return config


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (None for an empty database)."""

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest schema revision shipped with this version of tansuan."""

    script = ScriptDirectory(str(files("tansuan.store") / "migrations"))
    head = script.get_current_head()
    assert head is not None
    return head


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to the newest revision; return (revision before, revision after)."""

    before = current_revision(engine)
    head = head_revision()
    if before == head:
        return before, head

    with engine.connect().execution_options(tansuan_write=True) as connection:
        with connection.begin():
            if connection.dialect.name == "postgresql":
                # One migrator at a time; the lock ends with the transaction.
                connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7236001)")
            # Another process may have upgraded while we waited for the write lock.
            if MigrationContext.configure(connection).get_current_revision() != head:
                command.upgrade(_alembic_config(connection), "head")
    return before, head
