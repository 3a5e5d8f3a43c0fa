"""The store: one engine, the schema brought up to date on open, one writer at a time.

>>> store = Store("sqlite:///var/tansuan.db")          # doctest: +SKIP
>>> with store.write() as connection: ...              # doctest: +SKIP

``write()`` serialises writers: a thread lock inside the process, and across processes
``BEGIN IMMEDIATE`` on SQLite or a transaction-scoped advisory lock on PostgreSQL. The
transaction commits when the block ends (durably: SQLite ``synchronous`` from
Settings, FULL by default) and rolls back if it raises.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from tansuan.errors import StoreError, TansuanError
from tansuan.settings import Settings, get_settings
from tansuan.site.model import SiteModel
from tansuan.store import engine as engines
from tansuan.store.documents import save_document
from tansuan.store.entities import LoadSummary, load_model

#: Advisory-lock key of the single PostgreSQL writer ("tansuan" on a phone keypad).
PG_WRITER_LOCK = 8267826


class Store:
    """The telemetry and results store (SQLite or PostgreSQL behind one interface)."""

    def __init__(
        self,
        url: str | None = None,
        *,
        settings: Settings | None = None,
        upgrade: bool = True,
    ) -> None:
        self.settings = settings or get_settings()
        self.url = url or self.settings.effective_database_url
        self.engine: Engine = engines.make_engine(
            self.url, sqlite_synchronous=self.settings.sqlite_synchronous
        )
        self.lock = threading.RLock()
        if upgrade:
            try:
                engines.upgrade(self.engine)
            except SQLAlchemyError as exc:
                raise StoreError(f"cannot prepare the database schema: {exc}") from exc

    @property
    def is_sqlite(self) -> bool:
        return engines.is_sqlite(self.engine)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction; commits at the end of the block, rolls back on error."""
        with self.lock:
            try:
                with self.engine.connect().execution_options(tansuan_write=True) as connection:
                    with connection.begin():
                        if connection.dialect.name == "postgresql":
                            connection.exec_driver_sql(
                                f"SELECT pg_advisory_xact_lock({PG_WRITER_LOCK})"
                            )
                        yield connection
            except TansuanError:
                raise
            except SQLAlchemyError as exc:
                raise StoreError(f"the database refused the write: {exc}") from exc

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection inside a read transaction (a snapshot on SQLite; READ COMMITTED
        on PostgreSQL)."""
        try:
            with self.engine.connect() as connection:
                with connection.begin():
                    yield connection
        except TansuanError:
            raise
        except SQLAlchemyError as exc:
            raise StoreError(f"the database refused the query: {exc}") from exc

    def load_model(
        self,
        model: SiteModel,
        source: str = "",
        *,
        hooks: Sequence[Callable[[Connection, int], object]] = (),
    ) -> LoadSummary:
        """Apply a site model (new, changed, retired entities); see :mod:`.entities`.

        ``hooks`` are called with the connection and the new version id inside the same
        transaction, after the document is stored (the ledger's ``site_model`` leaf)."""
        with self.write() as connection:
            summary = load_model(connection, model, source)
            save_document(connection, summary.version_id, model)
            for hook in hooks:
                hook(connection, summary.version_id)
            return summary

    def close(self) -> None:
        self.engine.dispose()
