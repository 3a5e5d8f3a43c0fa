"""The one ``MetaData`` every table of the store is declared on, shared column types, and
how Alembic compares a database with it.

Each family module (:mod:`.site`, :mod:`.readings`, :mod:`.results`, :mod:`.ledger`,
:mod:`.access`, :mod:`.market`) adds its tables to :data:`metadata`; the store's Alembic
environment compares the migrations with it, so a table declared anywhere else would be
invisible to ``alembic check`` and to the schema test.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import BigInteger, Integer, MetaData

metadata = MetaData()

#: 64-bit integer that is SQLite's rowid when used as the primary key.
RowId = BigInteger().with_variant(Integer(), "sqlite")

#: The monthly partitions of ``reading`` on PostgreSQL (``reading_YYYYMM``): the writer
#: creates them on demand (``store.readings.ensure_partitions``), no migration does.
_READING_PARTITION = re.compile(r"reading_\d{6}")


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic ``include_name``: leave out of a comparison what the store creates on purpose
    outside its migrations — only the partitions of ``reading`` (and so their indexes).

    Everything else a database holds must match :data:`metadata` exactly: a table, column,
    type, nullability, index or constraint a migration lacks is a difference.
    """
    return not (type_ == "table" and name is not None and _READING_PARTITION.fullmatch(name))


#: Options for Alembic's comparison of a database with :data:`metadata` (the environment's
#: ``context.configure`` and the schema test use the same): types and server defaults are
#: compared too.
COMPARE_OPTIONS: dict[str, Any] = {
    "compare_type": True,
    "compare_server_default": True,
    "include_name": include_name,
}
