"""allowance accounts, trades and alert events

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

The tables of ``tansuan/store/schema/market.py``: the allowance accounts in the store
instead of YAML files; the alerts the server's alerts job raised and delivered.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "allowance_account",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_key", sa.String(64), nullable=False),
        sa.Column("site_key", sa.String(64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("price", sa.Float(), nullable=False),
        sa.Column("gas", sa.Boolean(), nullable=False),
        sa.Column("allocation_t", sa.Float(), nullable=False),
        sa.Column("units", sa.Text(), nullable=False),
        sa.Column("banked_t", sa.Float(), nullable=False),
        sa.Column("emissions_mean_t", sa.Float(), nullable=True),
        sa.Column("emissions_sd_t", sa.Float(), nullable=True),
        sa.Column("verified_t", sa.Float(), nullable=True),
        sa.Column("rules", sa.Text(), nullable=True),
        sa.Column("changed_at_us", sa.BigInteger(), nullable=False),
        sa.Column("changed_by", sa.String(128), nullable=False),
        sa.Column("change", sa.Text(), nullable=False),
        sa.Column("leaf_index", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_key", "year", "version", name="uq_allowance_account_version"),
    )
    op.create_table(
        "allowance_trade",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_key", sa.String(64), nullable=False),
        sa.Column("site_key", sa.String(64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("trade_date", sa.String(10), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("instrument", sa.String(8), nullable=False),
        sa.Column("quantity_t", sa.Float(), nullable=False),
        sa.Column("price", sa.Float(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("entered_at_us", sa.BigInteger(), nullable=False),
        sa.Column("entered_by", sa.String(128), nullable=False),
        sa.Column("leaf_index", sa.BigInteger(), nullable=True),
        sa.Column("cancelled_at_us", sa.BigInteger(), nullable=True),
        sa.Column("cancelled_by", sa.String(128), nullable=True),
        sa.Column("cancel_leaf_index", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_allowance_trade_site_year", "allowance_trade", ["site_key", "year"])
    op.create_table(
        "alert_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_key", sa.String(64), nullable=False),
        sa.Column("site_key", sa.String(64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("metric", sa.String(32), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("limit_value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("zh", sa.Text(), nullable=False),
        sa.Column("en", sa.Text(), nullable=False),
        sa.Column("raised_at_us", sa.BigInteger(), nullable=False),
        sa.Column("seen_at_us", sa.BigInteger(), nullable=False),
        sa.Column("cleared_at_us", sa.BigInteger(), nullable=True),
        sa.Column("sent_at_us", sa.BigInteger(), nullable=True),
        sa.Column("sent_to", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alert_event_site_open", "alert_event", ["site_key", "cleared_at_us"])


def downgrade() -> None:
    op.drop_index("ix_alert_event_site_open", table_name="alert_event")
    op.drop_table("alert_event")
    op.drop_index("ix_allowance_trade_site_year", table_name="allowance_trade")
    op.drop_table("allowance_trade")
    op.drop_table("allowance_account")
