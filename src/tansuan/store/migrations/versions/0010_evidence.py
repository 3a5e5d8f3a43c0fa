"""evidence: files attached to a source-month, a manual entry or a request

Revision ID: 0010_evidence
Revises: 0009_bound
Create Date: 2026-12-05

A new table ``evidence``: one row per attached file (its SHA-256, name, media type, size,
what it is attached to, who uploaded it and when). The bytes are stored outside the
database, content-addressed (``tansuan.store.evidence``). No existing data changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_evidence"
down_revision: str | Sequence[str] | None = "0009_bound"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("site_key", sa.String(64), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("media_type", sa.String(128), nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("target_kind", sa.String(16), nullable=False),
        sa.Column("target_ref", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("uploaded_by", sa.String(128), nullable=False),
        sa.Column("uploaded_at_us", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_evidence_target", "evidence", ["site_key", "target_kind", "target_ref"])


def downgrade() -> None:
    op.drop_index("ix_evidence_target", table_name="evidence")
    op.drop_table("evidence")
