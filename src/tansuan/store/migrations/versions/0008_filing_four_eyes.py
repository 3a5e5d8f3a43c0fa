"""four-eyes filing: who computed a result version and who decided on a proposal

Revision ID: 0008_filing
Revises: 0007_counters
Create Date: 2026-12-05

``result_sets`` gains ``computed_by`` (the user who ran the accounting, NULL when not
named), ``decided_by``, ``decided_at`` and ``decision_note`` (the approver who accepted or
rejected a proposed version, when and why). Rows written before keep NULL: unknown.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_filing"
down_revision: str | Sequence[str] | None = "0007_counters"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("result_sets") as batch:
        batch.add_column(sa.Column("computed_by", sa.String(64), nullable=True))
        batch.add_column(sa.Column("decided_by", sa.String(64), nullable=True))
        batch.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("decision_note", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("result_sets") as batch:
        batch.drop_column("decision_note")
        batch.drop_column("decided_at")
        batch.drop_column("decided_by")
        batch.drop_column("computed_by")
