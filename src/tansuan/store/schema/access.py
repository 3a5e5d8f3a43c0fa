"""Tables of users, API tokens, share grants and the grant-read audit log.

Created by migration 0003. Times are integer epoch microseconds UTC (``*_us``) like the
rest of the store. Secrets are never stored: passwords as argon2id hashes, tokens as
SHA-256 of the token (a token is 32 random bytes, so a fast hash is enough).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from tansuan.store.schema.base import metadata

#: The roles a user can have. Inside their own organisation: admin (everything, manages
#: users, tokens, grants), energy_manager (read, write manual data, ingest), operator
#: (read-only). verifier, regulator and counterparty see their own organisation's data
#: and, outside it, only what a share grant gives them.
ROLES = ("admin", "energy_manager", "operator", "verifier", "regulator", "counterparty")

#: Scopes an API token may carry.
SCOPES = ("read", "ingest", "admin")

#: Data classes a share grant can open.
DATA_CLASSES = ("raw", "hourly", "monthly", "annual", "reports", "proofs")

web_user = Table(
    "web_user",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("org_key", String(64), nullable=False, doc="organisation the user belongs to"),
    Column("username", String(64), nullable=False),
    Column("display_name", Text, nullable=False),
    Column("password_hash", Text, nullable=False, doc="argon2id hash"),
    Column("role", String(20), nullable=False),
    Column("created_at_us", BigInteger, nullable=False),
    Column("disabled_at_us", BigInteger, nullable=True),
    Column(
        "session_epoch",
        Integer,
        nullable=False,
        server_default="0",
        doc="sessions signed with an older epoch are void (logout ends them all)",
    ),
    UniqueConstraint("username", name="uq_web_user_username"),
)

api_token = Table(
    "api_token",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("web_user.id"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("prefix", String(12), nullable=False, doc="first characters, to recognise it"),
    Column("token_sha256", String(64), nullable=False),
    Column("scopes", String(64), nullable=False, doc="comma-separated scopes"),
    Column("created_at_us", BigInteger, nullable=False),
    Column("expires_at_us", BigInteger, nullable=True),
    Column("revoked_at_us", BigInteger, nullable=True),
    Column("last_used_at_us", BigInteger, nullable=True),
    UniqueConstraint("token_sha256", name="uq_api_token_sha256"),
)

share_grant = Table(
    "share_grant",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("grantor_org", String(64), nullable=False),
    Column("grantee_org", String(64), nullable=True, doc="an organisation, or"),
    Column("grantee_user_id", Integer, nullable=True, doc="one user"),
    Column("site_key", String(64), nullable=False),
    Column("node_key", String(64), nullable=False, doc="area or device id; '' = whole site"),
    Column("node_path", Text, nullable=False, doc="the node's path inside the site"),
    Column("classes", String(128), nullable=False, doc="comma-separated data classes"),
    Column("window_from_us", BigInteger, nullable=False, doc="data time window start"),
    Column("window_to_us", BigInteger, nullable=False, doc="data time window end (excl.)"),
    Column("expires_at_us", BigInteger, nullable=False),
    Column("created_at_us", BigInteger, nullable=False),
    Column("created_by", Integer, nullable=False),
    Column("revoked_at_us", BigInteger, nullable=True),
    Column("note", Text, nullable=False),
    Index("ix_share_grant_grantee", "grantee_org", "grantee_user_id"),
)

grant_read = Table(
    "grant_read",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("grant_id", Integer, nullable=False),
    Column("user_id", Integer, nullable=True),
    Column("token_id", Integer, nullable=True),
    Column("at_us", BigInteger, nullable=False),
    Column("what", Text, nullable=False, doc="route and subject read"),
    Column("data_class", String(16), nullable=False),
    Column("leaf_index", BigInteger, nullable=True, doc="the ledger leaf of this read"),
    Index("ix_grant_read_grant", "grant_id"),
)
