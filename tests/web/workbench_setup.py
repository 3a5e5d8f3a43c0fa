"""Shared set-up of the workbench tests: alice (demo-group admin) grants demo-site's
November 2025 to verify-co (vera, verifier); bob (other-group) grants other-site to
audit-two (victor, verifier) — a verifier of another grant. Keys are fixed seeds."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tansuan.store import Store, grants, users
from tansuan.store.users import Principal
from tests.web.demo import PASSWORD

#: The month the demo deployment has results for (FROZEN_NOW 2026-11-18, a year back).
MONTH = "2025-11"
#: vera's signing key and another one (a wrong key).
VERA_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32, 64)))
CST = dt.timezone(dt.timedelta(hours=8))


def make_grants(store: Store, ledger: Any) -> dict[str, int]:
    """Both grants (window: November 2025, site time; expiring a year after FROZEN_NOW)."""
    window = (dt.datetime(2025, 11, 1, tzinfo=CST), dt.datetime(2025, 12, 1, tzinfo=CST))
    expires = dt.datetime(2027, 11, 18, tzinfo=CST)

    def us(t: dt.datetime) -> int:
        return int(t.timestamp() * 1_000_000)

    with store.write() as conn:
        users.add_user(conn, org="audit-two", username="victor", password=PASSWORD,
                       role="verifier")  # fmt: skip
        alice = users.user_id_by_name(conn, "alice")
        bob = users.user_id_by_name(conn, "bob")
        common = {"node": "", "classes": ["monthly", "annual", "reports", "proofs"],
                  "window_from_us": us(window[0]), "window_to_us": us(window[1]),
                  "expires_at_us": us(expires)}  # fmt: skip
        vera_grant = grants.create(conn, ledger, grantor_org="demo-group", created_by=alice,
                                   site="demo-site", grantee_org="verify-co", **common)  # type: ignore[arg-type]  # fmt: skip
        victor_grant = grants.create(conn, ledger, grantor_org="other-group", created_by=bob,
                                     site="other-site", grantee_org="audit-two", **common)  # type: ignore[arg-type]  # fmt: skip
    return {"vera": vera_grant, "victor": victor_grant}


def public_hex(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        .hex()
    )


def principal(store: Store, username: str) -> Principal:
    with store.read() as conn:
        return users.user(conn, users.user_id_by_name(conn, username))
