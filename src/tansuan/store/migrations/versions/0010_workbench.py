"""workbench: the verifier's requests, findings, replies and sign-offs; grant keys

Revision ID: 0010_workbench
Revises: 0010_evidence
Create Date: 2026-12-05

Four new tables (``verifier_request``, ``verifier_finding``, ``verifier_reply``,
``verifier_signoff``) and one nullable column ``share_grant.verifier_public_key`` (the
Ed25519 key a grant's verifier signs periods off with). Existing rows are unchanged.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_workbench"
down_revision: str | Sequence[str] | None = "0010_evidence"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _closing() -> list[sa.Column[object]]:
    return [
        sa.Column("closed_by", sa.String(64), nullable=True),
        sa.Column("closed_at_us", sa.BigInteger, nullable=True),
        sa.Column("close_note", sa.Text, nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("share_grant") as batch:
        batch.add_column(sa.Column("verifier_public_key", sa.String(64), nullable=True))
    op.create_table(
        "verifier_request",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("grant_id", sa.Integer, nullable=False),
        sa.Column("site_key", sa.String(64), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("raised_by", sa.String(64), nullable=False),
        sa.Column("raised_at_us", sa.BigInteger, nullable=False),
        *_closing(),
    )
    op.create_index("ix_verifier_request_site", "verifier_request", ["site_key", "period"])
    op.create_table(
        "verifier_finding",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("grant_id", sa.Integer, nullable=False),
        sa.Column("site_key", sa.String(64), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("raised_by", sa.String(64), nullable=False),
        sa.Column("raised_at_us", sa.BigInteger, nullable=False),
        *_closing(),
    )
    op.create_index("ix_verifier_finding_site", "verifier_finding", ["site_key", "period"])
    op.create_table(
        "verifier_reply",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("target_kind", sa.String(16), nullable=False),
        sa.Column("target_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("ref", sa.Text, nullable=True),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("at_us", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_verifier_reply_target", "verifier_reply", ["target_kind", "target_id"])
    op.create_table(
        "verifier_signoff",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("grant_id", sa.Integer, nullable=False),
        sa.Column("site_key", sa.String(64), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("verifier", sa.String(64), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("statement", sa.Text, nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
        sa.Column("root_hash", sa.String(64), nullable=False),
        sa.Column("opinion", sa.Text, nullable=False),
        sa.Column("at_us", sa.BigInteger, nullable=False),
        sa.Column("leaf_index", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_verifier_signoff_site", "verifier_signoff", ["site_key", "period"])


def downgrade() -> None:
    for table in ("verifier_signoff", "verifier_reply", "verifier_finding", "verifier_request"):
        op.drop_table(table)
    with op.batch_alter_table("share_grant") as batch:
        batch.drop_column("verifier_public_key")
