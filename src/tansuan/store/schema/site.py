"""The site model's tables: its versions, every entity with its history, the denormalised
points and series, and the loaded model documents.

**Ids are integers.** Every entity of the site model (site, area, device, point, series,
…) has a stable integer ``entity.id``; a point's id *is* its entity id, and so is a site's.
Times are integer epoch microseconds UTC (``*_us``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from tansuan.store.schema.base import metadata

# --- site model and its history -------------------------------------------------------

model_version = Table(
    "model_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("loaded_at_us", BigInteger, nullable=False),
    Column("source", Text, nullable=False, doc="file the model was loaded from"),
    Column("digest", String(64), nullable=False, doc="sha256 of the canonical model JSON"),
    Column("new", Integer, nullable=False),
    Column("changed", Integer, nullable=False),
    Column("retired", Integer, nullable=False),
)

#: Current state of every entity ever loaded (retired ones keep their row and id).
entity = Table(
    "entity",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False, doc="organisation, company, site, area, …"),
    Column("org_key", String(64), nullable=False, doc="organisation the entity belongs to"),
    Column("site_key", String(64), nullable=False, doc="site slug, '' above site level"),
    Column("key", String(64), nullable=False, doc="the entity's slug"),
    Column("site_id", Integer, nullable=True, doc="entity id of the site (NULL above site)"),
    Column("path", Text, nullable=False, doc="area/…/device path inside the site"),
    Column("attrs", Text, nullable=False, doc="canonical JSON of the entity's attributes"),
    Column("digest", String(64), nullable=False),
    Column("version_id", Integer, nullable=False, doc="model version of the current state"),
    Column("retired_at_us", BigInteger, nullable=True),
    UniqueConstraint("kind", "site_key", "key", name="uq_entity_kind_site_key"),
)

#: One row per state an entity has had: valid from one model version to the next change.
entity_history = Table(
    "entity_history",
    metadata,
    Column("entity_id", Integer, nullable=False),
    Column("version_from", Integer, nullable=False),
    Column("version_to", Integer, nullable=True),
    Column("valid_from_us", BigInteger, nullable=False),
    Column("valid_to_us", BigInteger, nullable=True),
    Column("change", String(8), nullable=False, doc="new, changed or revived"),
    Column("attrs", Text, nullable=False),
    Column("digest", String(64), nullable=False),
    PrimaryKeyConstraint("entity_id", "version_from"),
)

#: Denormalised current attributes of every point, read by ingest and queries.
point = Table(
    "point",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False, doc="= entity.id"),
    Column("site_id", Integer, nullable=False),
    Column("site_key", String(64), nullable=False),
    Column("key", String(64), nullable=False),
    Column("device_key", String(64), nullable=False),
    Column("path", Text, nullable=False, doc="area ids and device id joined by '/'"),
    Column("quantity", String(64), nullable=False),
    Column("unit", String(64), nullable=False, doc="canonical unit"),
    Column("kind", String(20), nullable=False),
    Column("interval_s", Integer, nullable=False),
    Column("range_min", Float, nullable=True),
    Column("range_max", Float, nullable=True),
    Column("rollover", Float, nullable=True),
    Column("timezone", String(64), nullable=False, doc="the site's time zone"),
    Column("retired_at_us", BigInteger, nullable=True),
    UniqueConstraint("site_key", "key", name="uq_point_site_key"),
)

#: Denormalised current attributes of every manual series.
series = Table(
    "series",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False, doc="= entity.id"),
    Column("site_id", Integer, nullable=False),
    Column("site_key", String(64), nullable=False),
    Column("key", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("unit", String(64), nullable=False),
    Column("fuel", String(64), nullable=True),
    Column("timezone", String(64), nullable=False),
    Column("retired_at_us", BigInteger, nullable=True),
    UniqueConstraint("site_key", "key", name="uq_series_site_key"),
)

#: Every loaded site-model document, keyed by the model version it created, so the
#: accounting engine, the gateways and the server work from exactly the model last loaded.
model_document = Table(
    "model_document",
    metadata,
    Column("version_id", Integer, primary_key=True, autoincrement=False),
    Column("document", Text, nullable=False, comment="canonical JSON of the model"),
)
