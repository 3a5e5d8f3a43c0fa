"""Users and API tokens: create, check, list, revoke (queries over ``store/schema/access.py``).

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106 second
recommended option); a token is shown once, at creation, and stored as its SHA-256.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, select, update

from tansuan.errors import InputError, NotFound, PermissionDenied
from tansuan.store.schema import ROLES, SCOPES, api_token, entity, share_grant, web_user

_hasher = PasswordHasher()

#: Prefix of every token, so a leaked one is easy to recognise in logs and scanners.
TOKEN_PREFIX = "tsn_"
MIN_PASSWORD = 10


def now_us() -> int:
    return time.time_ns() // 1000


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user, possibly through one of their API tokens."""

    user_id: int
    username: str
    display_name: str
    org: str
    role: str
    scopes: frozenset[str]
    token_id: int | None = None
    #: The legacy TANSUAN_INGEST_TOKEN: may ingest into every site of the deployment.
    deployment_wide: bool = False

    def can(self, scope: str) -> bool:
        return scope in self.scopes


def _scopes_of_role(role: str) -> frozenset[str]:
    if role == "admin":
        return frozenset(SCOPES)
    if role == "energy_manager":
        return frozenset({"read", "ingest"})
    return frozenset({"read"})


def _principal(
    row: Any, scopes: frozenset[str] | None = None, token_id: int | None = None
) -> Principal:
    role_scopes = _scopes_of_role(row.role)
    return Principal(
        user_id=row.id,
        username=row.username,
        display_name=row.display_name,
        org=row.org_key,
        role=row.role,
        scopes=role_scopes if scopes is None else role_scopes & scopes,
        token_id=token_id,
    )


def check_password(password: str) -> None:
    """:class:`InputError` for a password too short to be stored."""
    if len(password) < MIN_PASSWORD:
        raise InputError(
            f"密码至少 {MIN_PASSWORD} 个字符 / password needs {MIN_PASSWORD}+ characters",
            field="password",
        )


def hash_password(password: str) -> str:
    check_password(password)
    return _hasher.hash(password)


def check_new_user(
    connection: Connection, *, org: str, username: str, role: str, new_org: bool = False
) -> None:
    """Refuse a user that :func:`add_user` would refuse, and one of an organisation this
    store does not know (no site-model entity, user or grant names it) unless ``new_org``
    — before anyone is asked for a password. :class:`InputError` names the problem."""
    _check_user(connection, username, role)
    if new_org:
        return
    e, g = entity, share_grant
    known = any(
        connection.execute(select(column).where(column == org).limit(1)).first() is not None
        for column in (e.c.org_key, web_user.c.org_key, g.c.grantee_org)
    )
    if not known:
        orgs = sorted(
            {r for (r,) in connection.execute(select(e.c.org_key).distinct()) if r}
            | {r for (r,) in connection.execute(select(web_user.c.org_key).distinct())}
        )
        listed = ", ".join(orgs[:10]) or "—"
        raise InputError(
            f"未知组织 {org!r}（已有：{listed}）；无站点的组织（核查机构、主管部门）加 --new-org / "
            f"no organisation {org!r} in the store (known: {listed}); for an organisation "
            "without sites (a verifier, a regulator) pass --new-org",
            field="org",
        )


def _check_user(connection: Connection, username: str, role: str) -> None:
    if role not in ROLES:
        raise InputError(f"role must be one of {', '.join(ROLES)}", field="role")
    if not username or len(username) > 64:
        raise InputError("username must be 1-64 characters", field="username")
    taken = connection.execute(select(web_user.c.id).where(web_user.c.username == username))
    if taken.first() is not None:
        raise InputError(f"用户名已存在 / username {username!r} is taken", field="username")


def add_user(
    connection: Connection,
    *,
    org: str,
    username: str,
    password: str,
    role: str,
    display_name: str = "",
) -> int:
    """Create a user; :class:`InputError` for an unknown role or a taken username."""
    _check_user(connection, username, role)
    result = connection.execute(
        web_user.insert().values(
            org_key=org,
            username=username,
            display_name=display_name or username,
            password_hash=hash_password(password),
            role=role,
            created_at_us=now_us(),
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def authenticate(connection: Connection, username: str, password: str) -> Principal:
    """The user whose password this is; :class:`PermissionDenied` otherwise (same message)."""
    row = connection.execute(
        select(web_user).where(web_user.c.username == username, web_user.c.disabled_at_us.is_(None))
    ).first()
    denied = PermissionDenied("用户名或密码错误 / wrong username or password")
    if row is None:
        _hasher.hash(password)  # same time for unknown users as for wrong passwords
        raise denied
    try:
        _hasher.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise denied from None
    return _principal(row)


def user(connection: Connection, user_id: int) -> Principal:
    row = connection.execute(
        select(web_user).where(web_user.c.id == user_id, web_user.c.disabled_at_us.is_(None))
    ).first()
    if row is None:
        raise NotFound(f"no user {user_id}")
    return _principal(row)


def session_user(connection: Connection, user_id: int, epoch: int) -> Principal:
    """The user of a session signed at ``epoch``; NotFound once they logged out since."""
    row = connection.execute(
        select(web_user).where(
            web_user.c.id == user_id,
            web_user.c.disabled_at_us.is_(None),
            web_user.c.session_epoch == epoch,
        )
    ).first()
    if row is None:
        raise NotFound(f"no session of user {user_id}")
    return _principal(row)


def session_epoch(connection: Connection, user_id: int) -> int:
    found = connection.execute(
        select(web_user.c.session_epoch).where(web_user.c.id == user_id)
    ).scalar()
    return int(found or 0)


def end_sessions(connection: Connection, user_id: int) -> None:
    """Void every session of the user (logout ends them on every device)."""
    connection.execute(
        update(web_user)
        .where(web_user.c.id == user_id)
        .values(session_epoch=web_user.c.session_epoch + 1)
    )


def users(connection: Connection, org: str) -> list[dict[str, Any]]:
    rows = connection.execute(
        select(
            web_user.c.id,
            web_user.c.username,
            web_user.c.display_name,
            web_user.c.role,
            web_user.c.created_at_us,
            web_user.c.disabled_at_us,
        )
        .where(web_user.c.org_key == org)
        .order_by(web_user.c.id)
    )
    return [dict(r._mapping) for r in rows]


def user_id_by_name(connection: Connection, username: str) -> int:
    found = connection.execute(
        select(web_user.c.id).where(web_user.c.username == username)
    ).scalar()
    if found is None:
        raise NotFound(f"no user {username!r}")
    return int(found)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    connection: Connection,
    user_id: int,
    name: str,
    scopes: list[str] | tuple[str, ...],
    *,
    expires_at_us: int | None = None,
) -> tuple[int, str]:
    """Create a token for a user; returns (id, the token) — the only time it is seen."""
    bad = [s for s in scopes if s not in SCOPES]
    if bad or not scopes:
        raise InputError(f"scopes must be some of {', '.join(SCOPES)}", field="scopes")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    result = connection.execute(
        api_token.insert().values(
            user_id=user_id,
            name=name[:64] or "token",
            prefix=token[:10],
            token_sha256=_digest(token),
            scopes=",".join(sorted(set(scopes))),
            created_at_us=now_us(),
            expires_at_us=expires_at_us,
        )
    )
    return int(result.inserted_primary_key[0]), token  # type: ignore[index]


def check_token(connection: Connection, token: str) -> Principal:
    """The principal of a bearer token; :class:`PermissionDenied` if unknown/revoked/expired."""
    row = connection.execute(
        select(api_token, web_user.c.username)
        .join(web_user, web_user.c.id == api_token.c.user_id)
        .where(api_token.c.token_sha256 == _digest(token))
    ).first()
    at = now_us()
    if (
        row is None
        or row.revoked_at_us is not None
        or (row.expires_at_us is not None and row.expires_at_us <= at)
    ):
        raise PermissionDenied("无效的令牌 / invalid, revoked or expired API token")
    owner = connection.execute(
        select(web_user).where(web_user.c.id == row.user_id, web_user.c.disabled_at_us.is_(None))
    ).first()
    if owner is None:
        raise PermissionDenied("令牌的用户已停用 / the token's user is disabled")
    return _principal(owner, frozenset(row.scopes.split(",")), token_id=row.id)


def tokens(connection: Connection, org: str) -> list[dict[str, Any]]:
    t, u = api_token, web_user
    rows = connection.execute(
        select(
            t.c.id,
            t.c.name,
            t.c.prefix,
            t.c.scopes,
            t.c.created_at_us,
            t.c.expires_at_us,
            t.c.revoked_at_us,
            u.c.username,
        )
        .join(u, u.c.id == t.c.user_id)
        .where(u.c.org_key == org)
        .order_by(t.c.id)
    )
    return [dict(r._mapping) for r in rows]


def revoke_token(connection: Connection, org: str, token_id: int) -> None:
    """Revoke a token of ``org`` at once; :class:`NotFound` for another org's token."""
    owned = connection.execute(
        select(api_token.c.id)
        .join(web_user, web_user.c.id == api_token.c.user_id)
        .where(api_token.c.id == token_id, web_user.c.org_key == org)
    ).first()
    if owned is None:
        raise NotFound(f"no token {token_id}")
    connection.execute(
        update(api_token)
        .where(api_token.c.id == token_id, api_token.c.revoked_at_us.is_(None))
        .values(revoked_at_us=now_us())
    )
