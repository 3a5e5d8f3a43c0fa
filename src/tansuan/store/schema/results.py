"""The accounting results' tables: versioned result sets and their lines, the filed
(locked) months and the stale marks.

:mod:`tansuan.accounting.results` reads and writes them (a result set is one source × one
month; every version is kept). Site and source ids here are the model's string keys.
Created by migration 0002, which gave ``counted`` its server default and no column
comments: the column notes below are ``doc`` (Python only) so the metadata matches.
"""

from __future__ import annotations

import sqlalchemy as sa

from tansuan.store.schema.base import RowId, metadata

result_sets = sa.Table(
    "result_sets",
    metadata,
    sa.Column("id", RowId, primary_key=True),
    sa.Column("site_id", sa.String(64), nullable=False),
    sa.Column("source_id", sa.String(64), nullable=False),
    sa.Column("period", sa.String(32), nullable=False, doc="month label, e.g. 2025-03"),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("method", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("inputs_digest", sa.String(64), nullable=False),
    sa.Column("grade", sa.String(1), nullable=False),
    sa.Column("coverage", sa.Float, nullable=False),
    sa.Column("substituted_share", sa.Float, nullable=False),
    sa.Column("trace", sa.LargeBinary, nullable=False, doc="canonical JSON"),
    sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("software_version", sa.String(32), nullable=False),
    sa.Column(
        "counted",
        sa.Boolean,
        nullable=False,
        default=True,
        server_default=sa.true(),
        doc="False for a CEMS source that only cross-checks a calculated one",
    ),
    sa.Column(
        "state",
        sa.String(16),
        nullable=False,
        default="computed",
        server_default="computed",
        doc="computed | failed | missing | inactive (migration 0006); only computed has lines",
    ),
    sa.Column("problem", sa.Text, nullable=True, doc="why the month is failed or missing"),
    sa.Column("fix", sa.Text, nullable=True, doc="what to do about it"),
    # the four-eyes workflow (migration 0008): who computed a version, who decided on it
    sa.Column("computed_by", sa.String(64), nullable=True, doc="user who ran the accounting"),
    sa.Column("decided_by", sa.String(64), nullable=True, doc="approver who accepted/rejected"),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("decision_note", sa.Text, nullable=True, doc="the approver's reason"),
    sa.UniqueConstraint("site_id", "source_id", "period", "version"),
    sa.Index("ix_result_sets_current", "site_id", "period", "status"),
)

result_lines = sa.Table(
    "result_lines",
    metadata,
    sa.Column("set_id", sa.ForeignKey("result_sets.id"), primary_key=True),
    sa.Column("gas", sa.String(32), primary_key=True),
    sa.Column("scope", sa.String(16), primary_key=True),
    sa.Column("mass_g", sa.BigInteger, nullable=False),
    sa.Column("co2e_g", sa.BigInteger, nullable=False),
)

period_locks = sa.Table(
    "period_locks",
    metadata,
    sa.Column("site_id", sa.String(64), primary_key=True),
    sa.Column("period", sa.String(32), primary_key=True, doc="month label"),
    sa.Column("locked_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("locked_by", sa.String(128), nullable=False),
    sa.Column("note", sa.Text, nullable=False, default=""),
)

stale_marks = sa.Table(
    "stale_marks",
    metadata,
    sa.Column("site_id", sa.String(64), primary_key=True),
    sa.Column("source_id", sa.String(64), primary_key=True),
    sa.Column("period", sa.String(32), primary_key=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
)

declaration = sa.Table(
    "declaration",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("site_id", sa.String(64), nullable=False),
    sa.Column("source_id", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False, doc="shutdown"),
    sa.Column("date_from", sa.String(10), nullable=False, doc="first local day, inclusive"),
    sa.Column("date_to", sa.String(10), nullable=False, doc="last local day, inclusive"),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("evidence_name", sa.Text, nullable=True),
    sa.Column("evidence_sha256", sa.String(64), nullable=True),
    sa.Column("declared_by", sa.String(128), nullable=False),
    sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("leaf_index", sa.BigInteger, nullable=True),
    sa.Index("ix_declaration_site_source", "site_id", "source_id"),
)
