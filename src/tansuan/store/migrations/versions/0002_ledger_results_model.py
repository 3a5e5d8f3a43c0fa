"""ledger, accounting results and site-model documents

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

Folds the tables that ``tansuan.ledger.schema`` and ``tansuan.accounting.results``
declare into the store's migrations, and keeps every loaded site-model document so the
current model can be read back from the store.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "model_document",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False, comment="canonical JSON of the model"),
        sa.PrimaryKeyConstraint("version_id"),
    )
    # -- ledger (tansuan.ledger.schema) ------------------------------------------------
    op.create_table(
        "ledger_leaves",
        sa.Column("leaf_index", RowId, autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("ref", sa.String(200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("appended_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("leaf_index"),
    )
    op.create_table(
        "ledger_nodes",
        sa.Column("node_id", RowId, autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("node_id"),
    )
    state = op.create_table(
        "ledger_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(state, [{"id": 1, "tree_size": 0, "frontier": b""}])
    op.create_table(
        "ledger_sth",
        sa.Column("sth_id", RowId, autoincrement=True, nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("signature", sa.LargeBinary(64), nullable=False),
        sa.Column("key_id", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("sth_id"),
    )
    # -- accounting results (tansuan.accounting.results) -------------------------------
    op.create_table(
        "result_sets",
        sa.Column("id", RowId, autoincrement=True, nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("source_id", sa.String(64), nullable=False),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("inputs_digest", sa.String(64), nullable=False),
        sa.Column("grade", sa.String(1), nullable=False),
        sa.Column("coverage", sa.Float(), nullable=False),
        sa.Column("substituted_share", sa.Float(), nullable=False),
        sa.Column("trace", sa.LargeBinary(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("software_version", sa.String(32), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_id", "source_id", "period", "version"),
    )
    op.create_index("ix_result_sets_current", "result_sets", ["site_id", "period", "status"])
    op.create_table(
        "result_lines",
        sa.Column("set_id", RowId, sa.ForeignKey("result_sets.id"), nullable=False),
        sa.Column("gas", sa.String(32), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("mass_g", sa.BigInteger(), nullable=False),
        sa.Column("co2e_g", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("set_id", "gas", "scope"),
    )
    op.create_table(
        "period_locks",
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_by", sa.String(128), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "period"),
    )
    op.create_table(
        "stale_marks",
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("source_id", sa.String(64), nullable=False),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "source_id", "period"),
    )


def downgrade() -> None:
    for table in (
        "stale_marks",
        "period_locks",
        "result_lines",
        "result_sets",
        "ledger_sth",
        "ledger_state",
        "ledger_nodes",
        "ledger_leaves",
        "model_document",
    ):
        op.drop_table(table)
