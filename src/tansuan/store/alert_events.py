"""The alerts the server's alerts job raised, and to which webhooks each was delivered.

One row per alert occurrence (site, year, ``kind|metric|severity``): *open* from the
evaluation that first found it until one that no longer does (``cleared_at_us``; an
alert that comes back is a new row, so it is sent again; a raised severity is a new key).
``sent_to`` lists the webhook URLs that accepted it; a webhook that failed is tried
again at the next evaluation, the others are not sent it twice. This replaces the
``alerts-sent.json`` file of ``tansuan alerts --send`` for the server.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, select, update

from tansuan.store.schema import alert_event


def alert_key(alert: Any) -> str:
    """The identity of an alert inside a site and year (see module docstring)."""
    return f"{alert.kind}|{alert.metric}|{alert.severity}"


def record(
    connection: Connection, org: str, site: str, year: int, alerts: Sequence[Any], at_us: int
) -> None:
    """Store one evaluation of a site for ``year``: open the new alerts, refresh the value
    of those still raised, clear those gone (and every open one of another year)."""
    e = alert_event
    rows = connection.execute(
        select(e.c.id, e.c.key, e.c.year).where(
            e.c.org_key == org, e.c.site_key == site, e.c.cleared_at_us.is_(None)
        )
    ).all()
    open_ids = {r.key: r.id for r in rows if r.year == year}
    current = {alert_key(a): a for a in alerts}
    # cleared: those no longer raised, and any of an earlier year (after New Year)
    gone = [i for k, i in open_ids.items() if k not in current]
    gone += [r.id for r in rows if r.year != year]
    if gone:
        connection.execute(update(e).where(e.c.id.in_(gone)).values(cleared_at_us=at_us))
    for key, a in current.items():
        values = {"value": float(a.value), "limit_value": float(a.limit), "zh": a.zh, "en": a.en,
                  "seen_at_us": at_us}  # fmt: skip
        if key in open_ids:
            connection.execute(update(e).where(e.c.id == open_ids[key]).values(**values))
            continue
        connection.execute(
            e.insert().values(org_key=org, site_key=site, year=year, key=key, kind=a.kind,
                              severity=a.severity, metric=a.metric, unit=a.unit,
                              raised_at_us=at_us, attempts=0, sent_to="[]", **values)
        )  # fmt: skip


def open_events(connection: Connection, org: str, site: str | None = None) -> list[dict[str, Any]]:
    """The open alerts of an organisation (one site when given), critical first."""
    e = alert_event
    query = select(e).where(e.c.org_key == org, e.c.cleared_at_us.is_(None))
    if site is not None:
        query = query.where(e.c.site_key == site)
    rows = connection.execute(query.order_by(e.c.site_key, e.c.raised_at_us, e.c.id))
    out = []
    for r in rows:
        d = dict(r._mapping)
        d["sent_to"] = orjson.loads(d["sent_to"])
        out.append(d)
    return sorted(out, key=lambda d: d["severity"] != "critical")


def pending(connection: Connection, url: str) -> list[dict[str, Any]]:
    """Open alerts (every organisation: the server's job) not yet accepted by ``url``."""
    e = alert_event
    rows = connection.execute(
        select(e).where(e.c.cleared_at_us.is_(None)).order_by(e.c.site_key, e.c.id)
    )
    out = []
    for r in rows:
        d = dict(r._mapping)
        d["sent_to"] = orjson.loads(d["sent_to"])
        if url not in d["sent_to"]:
            out.append(d)
    return out


def delivered(
    connection: Connection, ids: Sequence[int], url: str, all_urls: Sequence[str], at_us: int
) -> None:
    """``url`` accepted the alerts ``ids``; an alert every webhook took is *sent*."""
    e = alert_event
    for row in connection.execute(select(e.c.id, e.c.sent_to, e.c.attempts).where(e.c.id.in_(ids))):
        sent_to = sorted(set(orjson.loads(row.sent_to)) | {url})
        values: dict[str, Any] = {"sent_to": orjson.dumps(sent_to).decode(),
                                  "attempts": row.attempts + 1}  # fmt: skip
        if set(all_urls) <= set(sent_to):
            values["sent_at_us"] = at_us
            values["last_error"] = None
        connection.execute(update(e).where(e.c.id == row.id).values(**values))


def failed(connection: Connection, ids: Sequence[int], url: str, error: str) -> None:
    """``url`` refused the alerts ``ids`` (tried again at the next evaluation)."""
    e = alert_event
    for row in connection.execute(select(e.c.id, e.c.attempts).where(e.c.id.in_(ids))):
        connection.execute(
            update(e).where(e.c.id == row.id)
            .values(attempts=row.attempts + 1, last_error=f"{url}: {error}"[:2000])
        )  # fmt: skip
