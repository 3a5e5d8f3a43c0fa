"""result states (computed | failed | missing | inactive) and shutdown declarations

Revision ID: 0006_result_states
Revises: 0005
Create Date: 2026-12-05

No source-month is ever absent: a month that could not be computed is stored as a result
set with ``state`` ``failed`` or ``missing``, its ``problem`` (why) and its ``fix`` (what to
do), and no lines (its CO2e is unknown, never 0). ``declaration`` holds the declared
shutdowns that make a month without data a true zero, with the evidence file's SHA-256.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_result_states"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("result_sets") as batch:
        batch.add_column(
            sa.Column("state", sa.String(16), nullable=False, server_default="computed")
        )
        batch.add_column(sa.Column("problem", sa.Text(), nullable=True))
        batch.add_column(sa.Column("fix", sa.Text(), nullable=True))
    op.create_table(
        "declaration",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("source_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("date_from", sa.String(10), nullable=False),
        sa.Column("date_to", sa.String(10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence_name", sa.Text(), nullable=True),
        sa.Column("evidence_sha256", sa.String(64), nullable=True),
        sa.Column("declared_by", sa.String(128), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("leaf_index", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_declaration_site_source", "declaration", ["site_id", "source_id"])


def downgrade() -> None:
    op.drop_index("ix_declaration_site_source", table_name="declaration")
    op.drop_table("declaration")
    with op.batch_alter_table("result_sets") as batch:
        batch.drop_column("fix")
        batch.drop_column("problem")
        batch.drop_column("state")
