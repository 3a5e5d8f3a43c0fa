"""users, API tokens, share grants and the grant-read audit log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

The tables of ``tansuan/store/schema/access.py``: web app users, API tokens, share grants.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_user",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_key", sa.String(64), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("created_at_us", sa.BigInteger(), nullable=False),
        sa.Column("disabled_at_us", sa.BigInteger(), nullable=True),
        sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username", name="uq_web_user_username"),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("web_user.id"), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(12), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("scopes", sa.String(64), nullable=False),
        sa.Column("created_at_us", sa.BigInteger(), nullable=False),
        sa.Column("expires_at_us", sa.BigInteger(), nullable=True),
        sa.Column("revoked_at_us", sa.BigInteger(), nullable=True),
        sa.Column("last_used_at_us", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_sha256", name="uq_api_token_sha256"),
    )
    op.create_table(
        "share_grant",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("grantor_org", sa.String(64), nullable=False),
        sa.Column("grantee_org", sa.String(64), nullable=True),
        sa.Column("grantee_user_id", sa.Integer(), nullable=True),
        sa.Column("site_key", sa.String(64), nullable=False),
        sa.Column("node_key", sa.String(64), nullable=False),
        sa.Column("node_path", sa.Text(), nullable=False),
        sa.Column("classes", sa.String(128), nullable=False),
        sa.Column("window_from_us", sa.BigInteger(), nullable=False),
        sa.Column("window_to_us", sa.BigInteger(), nullable=False),
        sa.Column("expires_at_us", sa.BigInteger(), nullable=False),
        sa.Column("created_at_us", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("revoked_at_us", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_share_grant_grantee", "share_grant", ["grantee_org", "grantee_user_id"])
    op.create_table(
        "grant_read",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("data_class", sa.String(16), nullable=False),
        sa.Column("leaf_index", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_grant_read_grant", "grant_read", ["grant_id"])


def downgrade() -> None:
    op.drop_index("ix_grant_read_grant", table_name="grant_read")
    op.drop_table("grant_read")
    op.drop_index("ix_share_grant_grantee", table_name="share_grant")
    op.drop_table("share_grant")
    op.drop_table("api_token")
    op.drop_table("web_user")
