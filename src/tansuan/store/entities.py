"""Loading a site model into the store: apply the difference, keep the history.

Loading compares every entity of the model (organisation, company, site, area, device,
point, connection, series, source) with the store by ``(kind, site, id)``:

* **new** — inserted, with a history row valid from this load;
* **changed** — its attributes differ: the current history row is closed
  (``version_to``, ``valid_to_us``) and a new one opened;
* **retired** — in the store but no longer in the model (same organisation): marked
  ``retired_at_us``; its id, history and data stay. A retired entity that comes back
  is revived under its old id (counted as new).

Nothing is ever deleted. A point's canonical unit cannot change once it has data (its
stored values would silently change meaning); make a new point instead.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, select, update

from tansuan.domain import units
from tansuan.errors import InputError, UnitError
from tansuan.site.model import Area, SiteModel
from tansuan.store import schema


@dataclass(frozen=True)
class Entity:
    kind: str
    site_key: str
    key: str
    path: str
    attrs: dict[str, Any]

    @property
    def digest(self) -> str:
        return hashlib.sha256(orjson.dumps(self.attrs, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass
class LoadSummary:
    """What a load changed."""

    version_id: int
    new: int = 0
    changed: int = 0
    retired: int = 0
    unchanged: int = 0
    by_kind: dict[str, Counter[str]] = field(default_factory=dict)


def _dump(obj: Any, exclude: set[str]) -> dict[str, Any]:
    return dict(obj.model_dump(mode="json", by_alias=True, exclude=exclude))


def flatten(model: SiteModel) -> list[Entity]:
    """Every entity of the model, parents before children."""
    org = model.organisation
    out = [Entity("organisation", "", org.id, "", {"name": org.name})]
    for company in org.companies:
        out.append(Entity("company", "", company.id, "", {"name": company.name}))
        for site in company.sites:
            attrs = _dump(site, {"areas", "connections", "series", "sources"})
            attrs["company"] = company.id
            out.append(Entity("site", site.id, site.id, "", attrs))

            def walk(areas: tuple[Area, ...], path: tuple[str, ...], site_key: str) -> None:
                for area in areas:
                    here = (*path, area.id)
                    attrs = _dump(area, {"areas", "devices"})
                    attrs["parent"] = "/".join(path)
                    out.append(Entity("area", site_key, area.id, "/".join(here), attrs))
                    for device in area.devices:
                        device_path = "/".join((*here, device.id))
                        d_attrs = _dump(device, {"points"})
                        out.append(Entity("device", site_key, device.id, device_path, d_attrs))
                        for pt in device.points:
                            p_attrs = _dump(pt, set())
                            p_attrs["device"] = device.id
                            if device.rated_power_kw is not None:
                                p_attrs["rated_power_kw"] = device.rated_power_kw
                            out.append(Entity("point", site_key, pt.id, device_path, p_attrs))
                    walk(area.areas, here, site_key)

            walk(site.areas, (), site.id)
            for kind, items in (
                ("connection", site.connections),
                ("series", site.series),
                ("source", site.sources),
            ):
                for item in items:
                    out.append(Entity(kind, site.id, item.id, "", _dump(item, set())))
    return out


def _point_row(ent: Entity, entity_id: int, site_id: int, tz: str) -> dict[str, Any]:
    a = ent.attrs
    valid_range = a.get("valid_range")
    return {
        "id": entity_id,
        "site_id": site_id,
        "site_key": ent.site_key,
        "key": ent.key,
        "device_key": a["device"],
        "path": ent.path,
        "quantity": a["quantity"],
        "unit": a["unit"],
        "kind": a["kind"],
        "interval_s": a["interval_s"],
        "range_min": valid_range[0] if valid_range else None,
        "range_max": valid_range[1] if valid_range else None,
        "rollover": a.get("rollover"),
        "max_per_hour": _max_per_hour(a),
        "timezone": tz,
        "retired_at_us": None,
    }


def _max_per_hour(attrs: dict[str, Any]) -> float | None:
    """A counter's plausibility limit [unit/h]: its own ``max_per_hour``, else the device's
    rated power for an energy counter (rated_power_kw × 1 h in the point's unit)."""
    if attrs.get("kind") != "total_increasing":
        return None
    own = attrs.get("max_per_hour")
    if own is not None:
        return float(own)
    rated = attrs.get("rated_power_kw")
    if rated is None:
        return None
    try:
        return float(rated) * units.factor("kWh", attrs["unit"])
    except UnitError:  # not an energy counter: no limit from the rated power
        return None


def _series_row(ent: Entity, entity_id: int, site_id: int, tz: str) -> dict[str, Any]:
    a = ent.attrs
    return {
        "id": entity_id,
        "site_id": site_id,
        "site_key": ent.site_key,
        "key": ent.key,
        "kind": a["kind"],
        "unit": a["unit"],
        "fuel": a.get("fuel"),
        "timezone": tz,
        "retired_at_us": None,
    }


def load_model(connection: Connection, model: SiteModel, source: str) -> LoadSummary:
    """Apply ``model`` to the store inside the caller's transaction; return the summary."""
    now_us = time.time_ns() // 1000
    org_key = model.organisation.id
    entities = flatten(model)
    e = schema.entity
    stored = {
        (row.kind, row.site_key, row.key): row
        for row in connection.execute(
            select(
                e.c.id, e.c.kind, e.c.site_key, e.c.key, e.c.digest, e.c.attrs, e.c.org_key
            ).add_columns(e.c.retired_at_us)
        )
    }
    _refuse_unit_changes(connection, entities, stored)
    digest = hashlib.sha256(
        orjson.dumps([(x.kind, x.site_key, x.key, x.digest) for x in entities])
    ).hexdigest()
    version_id = int(
        connection.execute(
            schema.model_version.insert()
            .values(loaded_at_us=now_us, source=source, digest=digest, new=0, changed=0, retired=0)
            .returning(schema.model_version.c.id)
        ).scalar_one()
    )
    summary = LoadSummary(version_id=version_id)
    site_ids: dict[str, int] = {}
    timezones = {x.key: str(x.attrs["timezone"]) for x in entities if x.kind == "site"}
    seen: set[tuple[str, str, str]] = set()
    h = schema.entity_history

    def count(kind: str, change: str) -> None:
        summary.by_kind.setdefault(kind, Counter())[change] += 1

    for ent in entities:
        ident = (ent.kind, ent.site_key, ent.key)
        seen.add(ident)
        attrs_json = orjson.dumps(ent.attrs, option=orjson.OPT_SORT_KEYS).decode()
        site_id = site_ids.get(ent.site_key)
        old = stored.get(ident)
        values = {
            "org_key": org_key,
            "path": ent.path,
            "attrs": attrs_json,
            "digest": ent.digest,
            "version_id": version_id,
            "retired_at_us": None,
            "site_id": site_id,
        }
        if old is None:
            entity_id = int(
                connection.execute(
                    e.insert()
                    .values(kind=ent.kind, site_key=ent.site_key, key=ent.key, **values)
                    .returning(e.c.id)
                ).scalar_one()
            )
            change = "new"
        else:
            entity_id = int(old.id)
            if old.retired_at_us is None and old.digest == ent.digest:
                change = "unchanged"
            else:
                change = "revived" if old.retired_at_us is not None else "changed"
                connection.execute(update(e).where(e.c.id == entity_id).values(**values))
                connection.execute(
                    update(h)
                    .where(h.c.entity_id == entity_id, h.c.version_to.is_(None))
                    .values(version_to=version_id, valid_to_us=now_us)
                )
        if ent.kind == "site":
            site_ids[ent.key] = entity_id
            if site_id is None:
                connection.execute(update(e).where(e.c.id == entity_id).values(site_id=entity_id))
            site_id = entity_id
        if change != "unchanged":
            connection.execute(
                h.insert().values(
                    entity_id=entity_id,
                    version_from=version_id,
                    version_to=None,
                    valid_from_us=now_us,
                    valid_to_us=None,
                    change=change,
                    attrs=attrs_json,
                    digest=ent.digest,
                )
            )
            _write_denormalised(connection, ent, entity_id, site_id, timezones)
        summary_key = {"new": "new", "revived": "new", "changed": "changed"}.get(
            change, "unchanged"
        )
        setattr(summary, summary_key, getattr(summary, summary_key) + 1)
        count(ent.kind, summary_key)

    for ident, old in stored.items():
        if ident in seen or old.retired_at_us is not None or old.org_key != org_key:
            continue
        connection.execute(update(e).where(e.c.id == old.id).values(retired_at_us=now_us))
        connection.execute(
            update(h)
            .where(h.c.entity_id == old.id, h.c.version_to.is_(None))
            .values(version_to=version_id, valid_to_us=now_us)
        )
        for table in (schema.point, schema.series):
            if ident[0] == table.name:
                connection.execute(
                    update(table).where(table.c.id == old.id).values(retired_at_us=now_us)
                )
        summary.retired += 1
        count(ident[0], "retired")
    connection.execute(
        update(schema.model_version)
        .where(schema.model_version.c.id == version_id)
        .values(new=summary.new, changed=summary.changed, retired=summary.retired)
    )
    return summary


def _write_denormalised(
    connection: Connection,
    ent: Entity,
    entity_id: int,
    site_id: int | None,
    timezones: dict[str, str],
) -> None:
    if ent.kind not in ("point", "series") or site_id is None:
        return
    table = schema.point if ent.kind == "point" else schema.series
    build = _point_row if ent.kind == "point" else _series_row
    row = build(ent, entity_id, site_id, timezones[ent.site_key])
    exists = connection.execute(select(table.c.id).where(table.c.id == entity_id)).first()
    if exists:
        connection.execute(update(table).where(table.c.id == entity_id).values(**row))
    else:
        connection.execute(table.insert().values(**row))


def _refuse_unit_changes(
    connection: Connection, entities: list[Entity], stored: dict[tuple[str, str, str], Any]
) -> None:
    problems: list[str] = []
    for ent in entities:
        if ent.kind not in ("point", "series"):
            continue
        old = stored.get((ent.kind, ent.site_key, ent.key))
        if old is None:
            continue
        old_unit = orjson.loads(old.attrs).get("unit")
        if old_unit == ent.attrs["unit"]:
            continue
        if ent.kind == "point":
            has_data = connection.execute(
                select(schema.rollup_hour.c.point_id)
                .where(schema.rollup_hour.c.point_id == old.id)
                .limit(1)
            ).first()
        else:
            has_data = connection.execute(
                select(schema.series_entry.c.series_id)
                .where(schema.series_entry.c.series_id == old.id)
                .limit(1)
            ).first()
        if has_data:
            problems.append(
                f"{ent.kind} {ent.site_key}/{ent.key}: unit {old_unit} -> {ent.attrs['unit']} "
                "but data is stored in the old unit; add a new point/series instead"
            )
    if problems:
        raise InputError("; ".join(problems), field="unit")
