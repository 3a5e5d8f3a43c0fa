"""counter classification: flags per reading, a plausibility limit per point, declared
meter replacements

Revision ID: 0007_counters
Revises: 0006_result_states
Create Date: 2026-12-05

``counter_flag`` records what the counter classifier decided about a stored counter
reading that is not a plain increase (glitch, spike, pending, reset, rollover);
``point.max_per_hour`` is the largest plausible increase of a counter per hour;
``meter_replacement`` holds declared replacements with their final and initial readings.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_counters"
down_revision: str | Sequence[str] | None = "0006_result_states"
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
    op.create_table(
        "meter_replacement",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.Column("final", sa.Float(), nullable=False),
        sa.Column("initial", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_at_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "point_id", "at_us", name="pk_meter_replacement"),
    )
    with op.batch_alter_table("point") as batch:
        batch.add_column(sa.Column("max_per_hour", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("point") as batch:
        batch.drop_column("max_per_hour")
    op.drop_table("meter_replacement")
    op.drop_table("counter_flag")
