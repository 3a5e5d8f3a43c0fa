"""bound results: ledger leaves looked up by kind and ref

Revision ID: 0009_bound
Revises: 0008_filing
Create Date: 2026-12-05

The emissions API checks each result set it serves against its ``emission_result`` leaf
before serving a number; the leaf is found by its ref (``site/source/period/vN``), so
``ledger_leaves`` gains an index on (kind, ref). No data changes.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_bound"
down_revision: str | Sequence[str] | None = "0008_filing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_ledger_leaves_kind_ref", "ledger_leaves", ["kind", "ref"])


def downgrade() -> None:
    op.drop_index("ix_ledger_leaves_kind_ref", table_name="ledger_leaves")
