"""counter classification: flags per reading and a plausibility limit per point

Revision ID: 0006_counters
Revises: 0005
Create Date: 2026-12-05

``counter_flag`` records what the counter classifier decided about a stored counter
reading that is not a plain increase (glitch, spike, pending, reset, rollover);
``point.max_per_hour`` is the largest plausible increase of a counter per hour.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_counters"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "counter_flag",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("ts_us", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("level", sa.Float(), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "point_id", "ts_us", name="pk_counter_flag"),
    )
    with op.batch_alter_table("point") as batch:
        batch.add_column(sa.Column("max_per_hour", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("point") as batch:
        batch.drop_column("max_per_hour")
    op.drop_table("counter_flag")
