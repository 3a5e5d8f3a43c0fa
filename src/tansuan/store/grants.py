"""Share grants: an organisation opens a subtree of its hierarchy to another party.

A grant names the grantor organisation, the grantee (an organisation or one user), a
site and a node in it (area or device; '' for the whole site), the data classes
opened (``schema.DATA_CLASSES``), the data time window ``[from, to)`` and an
expiry. Creating and revoking a grant appends a ledger leaf (kinds ``grant`` and
``grant_revocation``) in the same transaction; every read under a grant is written to
``grant_read`` and appended to the ledger (kind ``grant_read``) — see :func:`log_read`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, or_, select, update

from tansuan import clock
from tansuan.errors import InputError, NotFound
from tansuan.store import schema
from tansuan.store.schema import DATA_CLASSES, grant_read, share_grant, web_user
from tansuan.store.users import now_us


class LedgerLike(Protocol):
    def append(
        self, connection: Connection, kind: str, ref: str, payload: dict[str, Any]
    ) -> int: ...


@dataclass(frozen=True)
class Grant:
    """An active grant as the access checks use it."""

    id: int
    grantor_org: str
    site: str
    node: str
    node_path: str
    classes: frozenset[str]
    window_from_us: int
    window_to_us: int
    expires_at_us: int

    def covers_path(self, path: str) -> bool:
        """True when ``path`` (area/…/device of a point or node) is inside the grant."""
        if not self.node_path:
            return True
        return path == self.node_path or path.startswith(self.node_path + "/")

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "grantor_org": self.grantor_org,
            "site": self.site,
            "node": self.node,
            "classes": sorted(self.classes),
            "window_from_us": self.window_from_us,
            "window_to_us": self.window_to_us,
            "expires_at_us": self.expires_at_us,
        }


def _grant(row: Any) -> Grant:
    return Grant(
        row.id,
        row.grantor_org,
        row.site_key,
        row.node_key,
        row.node_path,
        frozenset(row.classes.split(",")),
        row.window_from_us,
        row.window_to_us,
        row.expires_at_us,
    )


def site_org(connection: Connection, site: str) -> str:
    """The organisation a site belongs to; :class:`NotFound` for an unknown site."""
    e = schema.entity
    org = connection.execute(
        select(e.c.org_key).where(e.c.kind == "site", e.c.key == site, e.c.retired_at_us.is_(None))
    ).scalar()
    if org is None:
        raise NotFound(f"no site {site!r}")
    return str(org)


def org_exists(connection: Connection, org: str) -> bool:
    """Whether ``org`` is an organisation of this deployment (it has users or entities)."""
    users = select(web_user.c.id).where(web_user.c.org_key == org).limit(1)
    entities = select(schema.entity.c.key).where(schema.entity.c.org_key == org).limit(1)
    return (
        connection.execute(users).first() is not None
        or connection.execute(entities).first() is not None
    )


def node_path(connection: Connection, site: str, node: str) -> str:
    """The path of an area or device inside its site ('' for the whole site)."""
    if not node:
        return ""
    e = schema.entity
    path = connection.execute(
        select(e.c.path).where(
            e.c.site_key == site, e.c.key == node, e.c.kind.in_(("area", "device"))
        )
    ).scalar()
    if path is None:
        raise NotFound(f"no area or device {node!r} in site {site!r}")
    return str(path)


def _calendar_now_us() -> int:
    """Now [µs since the epoch] on the platform's calendar clock (``TANSUAN_NOW`` or real)."""
    return int(clock.now().timestamp() * 1_000_000)


def active_grants(connection: Connection, org: str, user_id: int) -> list[Grant]:
    """Grants in force now for a user (to them, or to their organisation).

    Expiry is a calendar date a person chose, so it is read against the platform's
    calendar clock (:mod:`tansuan.clock`); the grant's own events keep real timestamps."""
    g = share_grant
    at = _calendar_now_us()
    rows = connection.execute(
        select(g)
        .where(
            or_(g.c.grantee_org == org, g.c.grantee_user_id == user_id),
            g.c.revoked_at_us.is_(None),
            g.c.expires_at_us > at,
        )
        .order_by(g.c.id)
    )
    return [_grant(r) for r in rows]


def create(
    connection: Connection,
    ledger: LedgerLike,
    *,
    grantor_org: str,
    created_by: int,
    site: str,
    node: str,
    classes: list[str] | tuple[str, ...],
    window_from_us: int,
    window_to_us: int,
    expires_at_us: int,
    grantee_org: str | None = None,
    grantee_user: str | None = None,
    note: str = "",
) -> int:
    """Create a grant of ``grantor_org``'s ``site``/``node``; returns its id.

    :class:`NotFound` when the site is not the grantor's (nothing reveals whether it
    exists elsewhere); :class:`InputError` for bad classes, windows or grantees.
    """
    if site_org(connection, site) != grantor_org:
        raise NotFound(f"no site {site!r}")
    path = node_path(connection, site, node)
    chosen = sorted(set(classes))
    if not chosen or any(c not in DATA_CLASSES for c in chosen):
        raise InputError(f"classes must be some of {', '.join(DATA_CLASSES)}", field="classes")
    if window_to_us <= window_from_us:
        raise InputError("the data window must end after it starts", field="window_to")
    if expires_at_us <= _calendar_now_us():
        raise InputError("the grant must expire in the future", field="expires_at")
    if (grantee_org is None) == (grantee_user is None):
        raise InputError("name exactly one grantee: an organisation or a user", field="grantee")
    user_id = None
    if grantee_user is not None:
        user_id = connection.execute(
            select(web_user.c.id).where(web_user.c.username == grantee_user)
        ).scalar()
        if user_id is None:
            raise InputError(f"no user {grantee_user!r}", field="grantee_user")
    if grantee_org == grantor_org:
        raise InputError("an organisation already sees its own data", field="grantee_org")
    if grantee_org is not None and not org_exists(connection, grantee_org):
        raise NotFound(f"没有该组织 / no organisation {grantee_org!r} to grant to")
    at = now_us()
    values = {
        "grantor_org": grantor_org,
        "grantee_org": grantee_org,
        "grantee_user_id": user_id,
        "site_key": site,
        "node_key": node,
        "node_path": path,
        "classes": ",".join(chosen),
        "window_from_us": window_from_us,
        "window_to_us": window_to_us,
        "expires_at_us": expires_at_us,
        "created_at_us": at,
        "created_by": created_by,
        "note": note,
    }
    inserted = connection.execute(share_grant.insert().values(**values)).inserted_primary_key
    grant_id = int(inserted[0]) if inserted is not None else 0
    payload = {k: v for k, v in values.items() if k != "node_path"}
    payload["grant_id"] = grant_id
    payload["grantee_user"] = grantee_user
    ledger.append(connection, "grant", f"grant/{grant_id}", payload)
    return grant_id


def revoke(
    connection: Connection, ledger: LedgerLike, grantor_org: str, grant_id: int, by: int
) -> None:
    """Revoke a grant at once (the next request under it is refused)."""
    g = share_grant
    row = connection.execute(
        select(g.c.id, g.c.revoked_at_us).where(g.c.id == grant_id, g.c.grantor_org == grantor_org)
    ).first()
    if row is None:
        raise NotFound(f"no grant {grant_id}")
    if row.revoked_at_us is not None:
        return
    at = now_us()
    connection.execute(update(g).where(g.c.id == grant_id).values(revoked_at_us=at))
    ledger.append(
        connection,
        "grant_revocation",
        f"grant/{grant_id}/revoked",
        {"grant_id": grant_id, "grantor_org": grantor_org, "revoked_at_us": at, "by": by},
    )


def listing(connection: Connection, org: str, user_id: int) -> list[dict[str, Any]]:
    """Grants given by ``org`` and grants received by it or by the user, newest first."""
    g = share_grant
    rows = connection.execute(
        select(g, web_user.c.username.label("grantee_username"))
        .outerjoin(web_user, web_user.c.id == g.c.grantee_user_id)
        .where(
            or_(
                g.c.grantor_org == org,
                g.c.grantee_org == org,
                g.c.grantee_user_id == user_id,
            )
        )
        .order_by(g.c.id.desc())
    )
    out = []
    for r in rows:
        d = dict(r._mapping)
        d["direction"] = "given" if r.grantor_org == org else "received"
        d["classes"] = r.classes.split(",")
        out.append(d)
    return out


def log_read(
    connection: Connection,
    ledger: LedgerLike,
    grant: Grant,
    *,
    user_id: int,
    token_id: int | None,
    what: str,
    data_class: str,
) -> int:
    """Record one read under a grant in the audit table and the ledger; returns the leaf."""
    at = now_us()
    inserted = connection.execute(
        grant_read.insert().values(
            grant_id=grant.id,
            user_id=user_id,
            token_id=token_id,
            at_us=at,
            what=what,
            data_class=data_class,
        )
    ).inserted_primary_key
    read_id = int(inserted[0]) if inserted is not None else 0
    leaf = ledger.append(
        connection,
        "grant_read",
        f"grant/{grant.id}/read/{read_id}",
        {
            "grant_id": grant.id,
            "grantor_org": grant.grantor_org,
            "user_id": user_id,
            "token_id": token_id,
            "at_us": at,
            "what": what,
            "data_class": data_class,
        },
    )
    connection.execute(update(grant_read).where(grant_read.c.id == read_id).values(leaf_index=leaf))
    return leaf


def reads(
    connection: Connection,
    org: str,
    *,
    grant_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The audit log of reads under grants given by ``org``, newest first."""
    r, g = grant_read, share_grant
    where = [g.c.grantor_org == org]
    if grant_id is not None:
        where.append(r.c.grant_id == grant_id)
    rows = connection.execute(
        select(r, web_user.c.username)
        .join(g, g.c.id == r.c.grant_id)
        .outerjoin(web_user, web_user.c.id == r.c.user_id)
        .where(*where)
        .order_by(r.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [dict(x._mapping) for x in rows]
