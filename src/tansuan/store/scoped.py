"""What one caller may read: every read of the web app goes through a :class:`Scope`.

A scope is a principal (user or token) plus the share grants in force for them. Data of
the caller's own organisation is open according to their role; data of another
organisation only through a grant that covers the site, the node (subtree), the data
class and the time window asked for — the window is clipped to the grant's. A site the
caller may not see at all is :class:`NotFound` (its existence is not revealed); a site
they see through a grant but asked outside it is :class:`PermissionDenied`.

Every read under a grant is logged (``grants.log_read``: audit table + ledger leaf).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, func, select

from tansuan.errors import InputError, NotFound, PermissionDenied
from tansuan.store import grants as grants_mod
from tansuan.store import queries, schema
from tansuan.store.grants import Grant, LedgerLike
from tansuan.store.timeutil import from_us, to_us
from tansuan.store.users import Principal

#: The data class a series resolution needs under a grant.
CLASS_OF_RESOLUTION = {"raw": "raw", "hour": "hourly", "day": "hourly", "month": "monthly"}


@dataclass(frozen=True)
class Access:
    """The answer to "may I read this?": own data, or a grant (window to clip to)."""

    own: bool
    grant: Grant | None = None

    def clip(self, start: dt.datetime, end: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        if self.grant is None:
            return start, end
        lo = max(to_us(start), self.grant.window_from_us)
        hi = min(to_us(end), self.grant.window_to_us)
        if hi <= lo:
            raise PermissionDenied(
                "请求的时间段不在授权范围内 / the time range is outside the grant"
            )
        return from_us(lo), from_us(hi)


@dataclass
class Scope:
    """A principal and the grants in force for them (built once per request)."""

    principal: Principal
    grants: list[Grant] = field(default_factory=list)
    ledger: LedgerLike | None = None

    @classmethod
    def load(cls, connection: Connection, principal: Principal, ledger: LedgerLike | None) -> Scope:
        return cls(
            principal,
            grants_mod.active_grants(connection, principal.org, principal.user_id),
            ledger,
        )

    @property
    def org(self) -> str:
        return self.principal.org

    # --- decisions --------------------------------------------------------------------
    def require(self, scope: str) -> None:
        if not self.principal.can(scope):
            raise PermissionDenied(f"需要权限 / this needs the {scope!r} permission")

    def require_admin(self) -> None:
        if self.principal.role != "admin" or not self.principal.can("admin"):
            raise PermissionDenied("仅管理员 / administrators only")

    def access(self, connection: Connection, site: str, path: str, data_class: str) -> Access:
        """May the caller read ``data_class`` at ``path`` ('' = site level) of ``site``?"""
        self.require("read")
        if grants_mod.site_org(connection, site) == self.org:
            return Access(own=True)
        on_site = [g for g in self.grants if g.site == site]
        if not on_site:
            raise NotFound(f"no site {site!r}")
        for g in on_site:
            if data_class in g.classes and (g.covers_path(path) if path else not g.node_path):
                return Access(own=False, grant=g)
        raise PermissionDenied(
            f"未授权 / no grant opens {data_class!r} data of {path or site!r} to you"
        )

    def log(self, connection: Connection, access: Access, what: str, data_class: str) -> None:
        """Log a read under a grant (no-op for own data). Call inside a write transaction."""
        if access.grant is None:
            return
        if self.ledger is None:
            raise PermissionDenied("reads under a grant need the ledger, which is not running")
        grants_mod.log_read(
            connection,
            self.ledger,
            access.grant,
            user_id=self.principal.user_id,
            token_id=self.principal.token_id,
            what=what,
            data_class=data_class,
        )

    # --- queries ----------------------------------------------------------------------
    def sites(self, connection: Connection) -> list[dict[str, Any]]:
        """Sites the caller sees: their organisation's and those opened by a grant."""
        self.require("read")
        e = schema.entity
        granted = {g.site for g in self.grants}
        rows = connection.execute(
            select(e.c.key, e.c.org_key, e.c.attrs)
            .where(e.c.kind == "site", e.c.retired_at_us.is_(None))
            .where((e.c.org_key == self.org) | e.c.key.in_(sorted(granted)))
            .order_by(e.c.org_key != self.org, e.c.key)
        )

        out = []
        for r in rows:
            attrs = orjson.loads(r.attrs)
            out.append(
                {
                    "site": r.key,
                    "name": attrs.get("name") or r.key,
                    "org": r.org_key,
                    "own": r.org_key == self.org,
                    "timezone": attrs.get("timezone", "Asia/Shanghai"),
                    "company": attrs.get("company", ""),
                    "grants": [g.id for g in self.grants if g.site == r.key],
                }
            )
        return out

    def tree(self, connection: Connection, site: str) -> dict[str, Any]:
        """The site's areas, devices and points, pruned to what the caller may see."""
        own = grants_mod.site_org(connection, site) == self.org
        if not own and not any(g.site == site for g in self.grants):
            raise NotFound(f"no site {site!r}")
        self.require("read")
        visible = [g for g in self.grants if g.site == site]
        e = schema.entity
        rows = connection.execute(
            select(e.c.kind, e.c.key, e.c.path, e.c.attrs)
            .where(
                e.c.site_key == site,
                e.c.kind.in_(("area", "device", "point")),
                e.c.retired_at_us.is_(None),
            )
            .order_by(e.c.path, e.c.kind, e.c.key)
        )

        root: dict[str, Any] = {"site": site, "children": []}
        nodes: dict[str, dict[str, Any]] = {"": root}
        for r in rows:
            path = r.path
            if not own and not any(
                g.covers_path(path) or g.node_path.startswith(path + "/") for g in visible
            ):
                continue
            attrs = orjson.loads(r.attrs)
            if r.kind == "point":
                parent = nodes.get(path)
                if parent is None:
                    continue
                parent.setdefault("points", []).append(
                    {
                        "id": r.key,
                        "quantity": attrs.get("quantity"),
                        "unit": attrs.get("unit"),
                        "kind": attrs.get("kind", "instantaneous"),
                    }
                )
                continue
            node = {
                "id": r.key,
                "kind": r.kind,
                "name": attrs.get("name") or r.key,
                "path": path,
                "children": [],
            }
            if r.kind == "device":
                node["class"] = attrs.get("class")
            parent_path = path.rsplit("/", 1)[0] if "/" in path else ""
            nodes.get(parent_path, root)["children"].append(node)
            nodes[path] = node
        return root

    def point(
        self, connection: Connection, site: str, point: str, data_class: str
    ) -> tuple[queries.PointInfo, Access]:
        info = self._point_info(connection, site, point)
        return info, self.access(connection, site, info.path, data_class)

    def _point_info(self, connection: Connection, site: str, point: str) -> queries.PointInfo:
        try:
            return queries.point_info(connection, site, point)
        except NotFound:
            raise NotFound(f"no point {point!r} in site {site!r}") from None

    def series(
        self,
        connection: Connection,
        site: str,
        point: str,
        start: dt.datetime,
        end: dt.datetime,
        resolution: queries.Resolution,
    ) -> tuple[list[dict[str, Any]], Access]:
        cls = CLASS_OF_RESOLUTION.get(resolution)
        if cls is None:
            raise InputError("resolution must be raw, hour, day or month", field="resolution")
        _info, access = self.point(connection, site, point, cls)
        lo, hi = access.clip(start, end)
        return queries.series(connection, site, point, lo, hi, resolution), access

    def device_points(
        self, connection: Connection, site: str, device: str
    ) -> tuple[list[queries.PointInfo], Access]:
        """The points of a device, if the caller may read its live (raw) values."""
        path = grants_mod.node_path(connection, site, device) if device else ""
        access = self.access(connection, site, path, "raw")
        points = queries.subtree_points(connection, site, device or None)
        if device:
            points = [p for p in points if p.path == path]
        return points, access

    def latest(
        self, connection: Connection, site: str, device: str
    ) -> tuple[list[dict[str, Any]], Access]:
        """Latest value of each point of a device (from the newest hourly bucket)."""
        points, access = self.device_points(connection, site, device)
        if not points:
            return [], access
        h = schema.rollup_hour
        ids = [p.id for p in points]
        newest = (
            select(h.c.point_id, func.max(h.c.hour_us).label("hour_us"))
            .where(h.c.site_id == points[0].site_id, h.c.point_id.in_(ids))
            .group_by(h.c.point_id)
            .subquery()
        )
        rows = connection.execute(
            select(h.c.point_id, h.c.last, h.c.last_ts_us)
            .join(
                newest,
                (newest.c.point_id == h.c.point_id) & (newest.c.hour_us == h.c.hour_us),
            )
            .where(h.c.site_id == points[0].site_id)
        )
        last = {r.point_id: (r.last, r.last_ts_us) for r in rows}
        out = []
        for p in points:
            value, ts = last.get(p.id, (None, None))
            if (
                access.grant is not None
                and ts is not None
                and not (access.grant.window_from_us <= ts < access.grant.window_to_us)
            ):
                value, ts = None, None
            out.append(
                {
                    "point": p.key,
                    "quantity": p.quantity,
                    "unit": p.unit,
                    "kind": p.kind,
                    "value": value,
                    "ts": None if ts is None else from_us(ts).isoformat(),
                    "interval_s": p.interval_s,
                }
            )
        return out, access


def check_ingest_sites(connection: Connection, principal: Principal, sites: set[str]) -> None:
    """Refuse a batch naming a site of another organisation (unknown sites are left to
    ingest, which rejects their rows one by one)."""
    if principal.deployment_wide:
        return
    e = schema.entity
    rows = connection.execute(
        select(e.c.key, e.c.org_key).where(e.c.kind == "site", e.c.key.in_(sorted(sites)))
    )
    for key, org in rows:
        if org != principal.org:
            raise NotFound(f"no site {key!r}")


def locate(connection: Connection, scope: Scope, node: str) -> tuple[str, str | None, str]:
    """(organisation, site or None, path) of a hierarchy node the caller may see.

    Organisation and company nodes are open only to their own organisation; a site,
    area or device node of another organisation only if a grant names that site.
    """
    e = schema.entity
    rows = connection.execute(
        select(e.c.kind, e.c.org_key, e.c.site_key, e.c.path).where(
            e.c.key == node,
            e.c.kind.in_(("organisation", "company", "site", "area", "device")),
            e.c.retired_at_us.is_(None),
        )
    ).all()
    granted = {g.site for g in scope.grants}
    for kind, org, site_key, path in rows:
        if kind in ("organisation", "company"):
            if org == scope.org:
                return org, None, ""
            continue
        if org == scope.org or site_key in granted:
            return org, site_key, path if kind != "site" else ""
    raise NotFound(f"no node {node!r}")


def source_path(connection: Connection, site: str, source: str) -> str:
    """Path of the device an emission source belongs to ('' when it names none)."""

    e = schema.entity
    attrs = connection.execute(
        select(e.c.attrs).where(e.c.kind == "source", e.c.site_key == site, e.c.key == source)
    ).scalar()
    device = orjson.loads(attrs).get("device") if attrs else None
    if not device:
        return ""
    try:
        return grants_mod.node_path(connection, site, device)
    except NotFound:
        return ""
