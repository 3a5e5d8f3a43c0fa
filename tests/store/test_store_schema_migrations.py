"""The migrations build exactly the store's one schema: an ``alembic check`` on SQLite and
PostgreSQL, so a table, column, type, nullability, default or index that a migration lacks
(or that the metadata forgot) fails here instead of on a live database."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import tansuan
from tansuan.store import Store
from tansuan.store import engine as engines
from tansuan.store.readings import ensure_partitions
from tansuan.store.schema import metadata
from tansuan.store.schema.base import COMPARE_OPTIONS

#: 2026-03-15 00:00 UTC in epoch microseconds: a reading whose month needs a partition.
MARCH_2026_US = 1_773_532_800_000_000


@pytest.fixture
def migrated(db_url: str) -> Iterator[sa.Engine]:
    """A fresh database brought to the newest revision the way ``tansuan db upgrade`` and
    the store's open do; on PostgreSQL with one monthly partition of ``reading``, as a
    writer would have made it."""
    store = Store(db_url)
    with store.write() as connection:
        ensure_partitions(connection, MARCH_2026_US, MARCH_2026_US)
    yield store.engine
    store.close()


def differences(engine: sa.Engine, target: sa.MetaData, **options: Any) -> list[Any]:
    """What Alembic's autogenerate would change to make the database match ``target``."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={**COMPARE_OPTIONS, **options})
        return list(compare_metadata(context, target))


def kinds(diffs: list[Any]) -> set[tuple[str, ...]]:
    """``(operation, table[, column or index])`` of each difference, flattening the lists
    Alembic groups column modifications in."""
    found: set[tuple[str, ...]] = set()
    for diff in diffs:
        for item in diff if isinstance(diff, list) else [diff]:
            operation = item[0]
            if operation in ("add_table", "remove_table"):
                found.add((operation, item[1].name))
            elif operation in ("add_column", "remove_column"):
                found.add((operation, item[2], item[3].name))
            elif operation in ("add_index", "remove_index"):
                found.add((operation, item[1].table.name, str(item[1].name)))
            elif operation.startswith("modify_"):
                found.add((operation, item[2], item[3]))
            else:
                found.add((operation,))
    return found


def test_migrations_match_the_metadata(migrated: sa.Engine) -> None:
    assert differences(migrated, metadata) == []


def test_alembic_check_through_the_store_environment_passes(migrated: sa.Engine) -> None:
    """``alembic check`` with the store's own env.py: its ``target_metadata`` is the one
    schema (a table it did not see would be reported as one to drop)."""
    with migrated.connect() as connection:
        config = engines._alembic_config(connection)
        # alembic's Config defaults to the sys.stdout of the moment alembic was imported,
        # which a CLI test may since have closed: give it a stream of its own.
        config.stdout = io.StringIO()
        command.check(config)
    assert "No new upgrade operations detected" in config.stdout.getvalue()


def test_a_forgotten_migration_is_a_difference(migrated: sa.Engine) -> None:
    """The comparison can fail: a copy of the metadata with a column, a table, an index and
    a nullability no migration made is reported on every one of them."""
    changed = sa.MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(changed)
    point = changed.tables["point"]
    point.append_column(sa.Column("forgotten", sa.Integer, nullable=True))
    sa.Index("ix_point_forgotten", point.c.forgotten)
    changed.tables["web_user"].c.display_name.nullable = True
    sa.Table("forgotten_table", changed, sa.Column("id", sa.Integer, primary_key=True))

    found = kinds(differences(migrated, changed))
    assert ("add_column", "point", "forgotten") in found
    assert ("add_index", "point", "ix_point_forgotten") in found
    assert ("modify_nullable", "web_user", "display_name") in found
    assert ("add_table", "forgotten_table") in found
    assert len(found) == 4, found


def test_only_the_reading_partitions_are_left_out(migrated: sa.Engine) -> None:
    """The one ``include_name`` rule hides exactly the writer's monthly partitions: without
    it PostgreSQL reports the partition (and the index it inherits) as strays, SQLite (no
    partitions) nothing."""
    found = kinds(differences(migrated, metadata, include_name=None))
    if migrated.dialect.name == "postgresql":
        assert ("remove_table", "reading_202603") in found
        assert {kind[1] for kind in found} == {"reading_202603"}, found
    else:
        assert found == set()


def test_every_table_is_declared_on_the_one_metadata() -> None:
    """No module of tansuan makes a ``MetaData`` of its own besides the store's schema."""
    package = Path(tansuan.__file__).parent
    base = package / "store" / "schema" / "base.py"
    others = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if path != base and "MetaData(" in path.read_text("utf-8")
    ]
    assert others == []
