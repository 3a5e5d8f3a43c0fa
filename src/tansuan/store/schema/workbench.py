"""Tables of the verifier's workbench: requests, findings, their replies and sign-offs.

Created by migration 0010_workbench. A verifier works under a share grant
(:mod:`.access`): each row names the grant it was raised under and the site and period
it is about. Times are integer epoch microseconds UTC (``*_us``); users are named by
username (as the four-eyes workflow names them). Every row written here is also a
ledger leaf (kinds ``verifier_request``, ``verifier_finding``, ``signoff``), appended in
the same transaction (:mod:`tansuan.views.workbench`).
"""

from __future__ import annotations

import sqlalchemy as sa

from tansuan.store.schema.base import metadata

#: States of a request: raised (open), answered by the plant, closed by the verifier.
REQUEST_STATES = ("open", "answered", "closed")
#: States of a finding: recorded (open), responded to by the plant, closed by the verifier.
FINDING_STATES = ("open", "responded", "closed")
#: Severities of a finding (不符合项): major blocks sign-off while open.
SEVERITIES = ("major", "minor", "observation")
#: How the plant answers a request: an evidence attachment, a correction (a pending
#: proposal of the four-eyes workflow) or a note; and a finding: a response.
REPLY_KINDS = ("attachment", "correction", "note", "response")

verifier_request = sa.Table(
    "verifier_request",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("grant_id", sa.Integer, nullable=False, doc="the share grant it was raised under"),
    sa.Column("site_key", sa.String(64), nullable=False),
    sa.Column("period", sa.String(16), nullable=False, doc="a month YYYY-MM"),
    sa.Column("subject", sa.Text, nullable=False, doc="source id or series entry; '' = month"),
    sa.Column("text", sa.Text, nullable=False, doc="what the verifier asks for"),
    sa.Column("status", sa.String(16), nullable=False, doc="open / answered / closed"),
    sa.Column("raised_by", sa.String(64), nullable=False),
    sa.Column("raised_at_us", sa.BigInteger, nullable=False),
    sa.Column("closed_by", sa.String(64), nullable=True),
    sa.Column("closed_at_us", sa.BigInteger, nullable=True),
    sa.Column("close_note", sa.Text, nullable=True),
    sa.Index("ix_verifier_request_site", "site_key", "period"),
)

verifier_finding = sa.Table(
    "verifier_finding",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("grant_id", sa.Integer, nullable=False),
    sa.Column("site_key", sa.String(64), nullable=False),
    sa.Column("period", sa.String(16), nullable=False, doc="YYYY or YYYY-MM"),
    sa.Column("severity", sa.String(16), nullable=False, doc="major / minor / observation"),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, doc="open / responded / closed"),
    sa.Column("raised_by", sa.String(64), nullable=False),
    sa.Column("raised_at_us", sa.BigInteger, nullable=False),
    sa.Column("closed_by", sa.String(64), nullable=True),
    sa.Column("closed_at_us", sa.BigInteger, nullable=True),
    sa.Column("close_note", sa.Text, nullable=True),
    sa.Index("ix_verifier_finding_site", "site_key", "period"),
)

verifier_reply = sa.Table(
    "verifier_reply",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("target_kind", sa.String(16), nullable=False, doc="request / finding"),
    sa.Column("target_id", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False, doc="attachment/correction/note/response"),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("ref", sa.Text, nullable=True, doc="evidence ref or proposal (result set) id"),
    sa.Column("by", sa.String(64), nullable=False),
    sa.Column("at_us", sa.BigInteger, nullable=False),
    sa.Index("ix_verifier_reply_target", "target_kind", "target_id"),
)

verifier_signoff = sa.Table(
    "verifier_signoff",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("grant_id", sa.Integer, nullable=False),
    sa.Column("site_key", sa.String(64), nullable=False),
    sa.Column("period", sa.String(16), nullable=False),
    sa.Column("verifier", sa.String(64), nullable=False, doc="username of the verifier"),
    sa.Column("public_key", sa.String(64), nullable=False, doc="Ed25519, raw 32 bytes, hex"),
    sa.Column("statement", sa.Text, nullable=False, doc="the exact canonical JSON signed"),
    sa.Column("signature", sa.String(128), nullable=False, doc="Ed25519 signature, hex"),
    sa.Column("tree_size", sa.BigInteger, nullable=False),
    sa.Column("root_hash", sa.String(64), nullable=False),
    sa.Column("opinion", sa.Text, nullable=False),
    sa.Column("at_us", sa.BigInteger, nullable=False, doc="when the server stored it"),
    sa.Column("leaf_index", sa.BigInteger, nullable=True),
    sa.Index("ix_verifier_signoff_site", "site_key", "period"),
)
