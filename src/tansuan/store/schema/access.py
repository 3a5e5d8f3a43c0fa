"""Tables of users, API tokens, share grants and the grant-read audit log.

Created by migration 0003. Times are integer epoch microseconds UTC (``*_us``) like the
rest of the store. Secrets are never stored: passwords as argon2id hashes, tokens as
SHA-256 of the token (a token is 32 random bytes, so a fast hash is enough).
"""

from __future__ import annotations

import sqlalchemy as sa

from tansuan.store.schema.base import metadata

#: The roles a user can have. Inside their own organisation: admin (everything, manages
#: users, tokens, grants), energy_manager (read, write manual data, ingest), operator
#: (read-only). verifier, regulator and counterparty see their own organisation's data
#: and, outside it, only what a share grant gives them. carbon_accountant (read; files
#: months and proposes recalculations) and approver (read; accepts or rejects what another
#: user filed or proposed: the four-eyes rule of :mod:`tansuan.accounting.filing`).
ROLES = (
    "admin",
    "energy_manager",
    "operator",
    "verifier",
    "regulator",
    "counterparty",
    "carbon_accountant",
    "approver",
)

#: Scopes an API token may carry.
SCOPES = ("read", "ingest", "admin")

#: Data classes a share grant can open.
DATA_CLASSES = ("raw", "hourly", "monthly", "annual", "reports", "proofs")

web_user = sa.Table(
    "web_user",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("org_key", sa.String(64), nullable=False, doc="organisation the user belongs to"),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False, doc="argon2id hash"),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("created_at_us", sa.BigInteger, nullable=False),
    sa.Column("disabled_at_us", sa.BigInteger, nullable=True),
    sa.Column(
        "session_epoch",
        sa.Integer,
        nullable=False,
        server_default="0",
        doc="sessions signed with an older epoch are void (logout ends them all)",
    ),
    sa.UniqueConstraint("username", name="uq_web_user_username"),
)

api_token = sa.Table(
    "api_token",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("web_user.id"), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("prefix", sa.String(12), nullable=False, doc="first characters, to recognise it"),
    sa.Column("token_sha256", sa.String(64), nullable=False),
    sa.Column("scopes", sa.String(64), nullable=False, doc="comma-separated scopes"),
    sa.Column("created_at_us", sa.BigInteger, nullable=False),
    sa.Column("expires_at_us", sa.BigInteger, nullable=True),
    sa.Column("revoked_at_us", sa.BigInteger, nullable=True),
    sa.Column("last_used_at_us", sa.BigInteger, nullable=True),
    sa.UniqueConstraint("token_sha256", name="uq_api_token_sha256"),
)

share_grant = sa.Table(
    "share_grant",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("grantor_org", sa.String(64), nullable=False),
    sa.Column("grantee_org", sa.String(64), nullable=True, doc="an organisation, or"),
    sa.Column("grantee_user_id", sa.Integer, nullable=True, doc="one user"),
    sa.Column("site_key", sa.String(64), nullable=False),
    sa.Column("node_key", sa.String(64), nullable=False, doc="area or device id; '' = whole site"),
    sa.Column("node_path", sa.Text, nullable=False, doc="the node's path inside the site"),
    sa.Column("classes", sa.String(128), nullable=False, doc="comma-separated data classes"),
    sa.Column("window_from_us", sa.BigInteger, nullable=False, doc="data time window start"),
    sa.Column("window_to_us", sa.BigInteger, nullable=False, doc="data time window end (excl.)"),
    sa.Column("expires_at_us", sa.BigInteger, nullable=False),
    sa.Column("created_at_us", sa.BigInteger, nullable=False),
    sa.Column("created_by", sa.Integer, nullable=False),
    sa.Column("revoked_at_us", sa.BigInteger, nullable=True),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column(
        "verifier_public_key",
        sa.String(64),
        nullable=True,
        doc="Ed25519 public key (raw 32 bytes, hex) the grantee's verifier signs off with",
    ),
    sa.Index("ix_share_grant_grantee", "grantee_org", "grantee_user_id"),
)

grant_read = sa.Table(
    "grant_read",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("grant_id", sa.Integer, nullable=False),
    sa.Column("user_id", sa.Integer, nullable=True),
    sa.Column("token_id", sa.Integer, nullable=True),
    sa.Column("at_us", sa.BigInteger, nullable=False),
    sa.Column("what", sa.Text, nullable=False, doc="route and subject read"),
    sa.Column("data_class", sa.String(16), nullable=False),
    sa.Column("leaf_index", sa.BigInteger, nullable=True, doc="the ledger leaf of this read"),
    sa.Index("ix_grant_read_grant", "grant_id"),
)
