"""ledger records stored out of line without compression (PostgreSQL)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26

A readings record (``ledger_leaves.body``, ~120 kB per 10k-reading batch) is float64
values that pglz cannot shrink, yet PostgreSQL tried on every row: about 2 ms per ingest
batch inside the ingest transaction. ``SET STORAGE EXTERNAL`` keeps such values out of
line, uncompressed; it applies to rows written from now on. Nothing to do on SQLite.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # the statement itself, not the application's constant: a revision never changes
        op.execute("ALTER TABLE ledger_leaves ALTER COLUMN body SET STORAGE EXTERNAL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE ledger_leaves ALTER COLUMN body SET STORAGE EXTENDED")
