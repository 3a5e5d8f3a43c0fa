"""The evidence table: files (invoices, lab reports, calibration certificates, meter
photos) attached to a source-month, a manual series entry or a verifier's request.

The bytes live in a content-addressed blob store (:mod:`tansuan.store.evidence`), named by
their SHA-256; a row says what the file is, what it is attached to, who uploaded it and
when. Rows are never changed or deleted: each one is logged by a ledger leaf (kind
``evidence``) written in the same transaction. Created by migration 0010.
"""

from __future__ import annotations

import sqlalchemy as sa

from tansuan.store.schema.base import metadata

evidence = sa.Table(
    "evidence",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("site_key", sa.String(64), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False, doc="64 lowercase hex digits"),
    sa.Column("filename", sa.Text, nullable=False, doc="the uploaded file's name"),
    sa.Column("media_type", sa.String(128), nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column(
        "target_kind", sa.String(16), nullable=False, doc="source_month | manual_entry | request"
    ),
    sa.Column(
        "target_ref",
        sa.Text,
        nullable=False,
        doc="<source>/<YYYY-MM>, a manual entry's ledger ref, or request/<id>",
    ),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("uploaded_by", sa.String(128), nullable=False),
    sa.Column("uploaded_at_us", sa.BigInteger, nullable=False),
    sa.Index("ix_evidence_target", "site_key", "target_kind", "target_ref"),
)
