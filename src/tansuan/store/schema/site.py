"""The site model's tables: its versions, every entity with its history, the denormalised
points and series, and the loaded model documents.

**Ids are integers.** Every entity of the site model (site, area, device, point, series,
…) has a stable integer ``entity.id``; a point's id *is* its entity id, and so is a site's.
Times are integer epoch microseconds UTC (``*_us``).
"""

from __future__ import annotations

import sqlalchemy as sa

from tansuan.store.schema.base import metadata

# --- site model and its history -------------------------------------------------------

model_version = sa.Table(
    "model_version",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("loaded_at_us", sa.BigInteger, nullable=False),
    sa.Column("source", sa.Text, nullable=False, doc="file the model was loaded from"),
    sa.Column("digest", sa.String(64), nullable=False, doc="sha256 of the canonical model JSON"),
    sa.Column("new", sa.Integer, nullable=False),
    sa.Column("changed", sa.Integer, nullable=False),
    sa.Column("retired", sa.Integer, nullable=False),
)

#: Current state of every entity ever loaded (retired ones keep their row and id).
entity = sa.Table(
    "entity",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False, doc="organisation, company, site, area, …"),
    sa.Column("org_key", sa.String(64), nullable=False, doc="organisation the entity belongs to"),
    sa.Column("site_key", sa.String(64), nullable=False, doc="site slug, '' above site level"),
    sa.Column("key", sa.String(64), nullable=False, doc="the entity's slug"),
    sa.Column("site_id", sa.Integer, nullable=True, doc="entity id of the site (NULL above site)"),
    sa.Column("path", sa.Text, nullable=False, doc="area/…/device path inside the site"),
    sa.Column("attrs", sa.Text, nullable=False, doc="canonical JSON of the entity's attributes"),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("version_id", sa.Integer, nullable=False, doc="model version of the current state"),
    sa.Column("retired_at_us", sa.BigInteger, nullable=True),
    sa.UniqueConstraint("kind", "site_key", "key", name="uq_entity_kind_site_key"),
)

#: One row per state an entity has had: valid from one model version to the next change.
entity_history = sa.Table(
    "entity_history",
    metadata,
    sa.Column("entity_id", sa.Integer, nullable=False),
    sa.Column("version_from", sa.Integer, nullable=False),
    sa.Column("version_to", sa.Integer, nullable=True),
    sa.Column("valid_from_us", sa.BigInteger, nullable=False),
    sa.Column("valid_to_us", sa.BigInteger, nullable=True),
    sa.Column("change", sa.String(8), nullable=False, doc="new, changed or revived"),
    sa.Column("attrs", sa.Text, nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.PrimaryKeyConstraint("entity_id", "version_from"),
)

#: Denormalised current attributes of every point, read by ingest and queries.
point = sa.Table(
    "point",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False, doc="= entity.id"),
    sa.Column("site_id", sa.Integer, nullable=False),
    sa.Column("site_key", sa.String(64), nullable=False),
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("device_key", sa.String(64), nullable=False),
    sa.Column("path", sa.Text, nullable=False, doc="area ids and device id joined by '/'"),
    sa.Column("quantity", sa.String(64), nullable=False),
    sa.Column("unit", sa.String(64), nullable=False, doc="canonical unit"),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("interval_s", sa.Integer, nullable=False),
    sa.Column("range_min", sa.Float, nullable=True),
    sa.Column("range_max", sa.Float, nullable=True),
    sa.Column("rollover", sa.Float, nullable=True, doc="wrap modulus of a counter register"),
    sa.Column(
        "max_per_hour", sa.Float, nullable=True, doc="plausible counter increase per hour at most"
    ),
    sa.Column("timezone", sa.String(64), nullable=False, doc="the site's time zone"),
    sa.Column("retired_at_us", sa.BigInteger, nullable=True),
    sa.UniqueConstraint("site_key", "key", name="uq_point_site_key"),
)

#: Denormalised current attributes of every manual series.
series = sa.Table(
    "series",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False, doc="= entity.id"),
    sa.Column("site_id", sa.Integer, nullable=False),
    sa.Column("site_key", sa.String(64), nullable=False),
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("unit", sa.String(64), nullable=False),
    sa.Column("fuel", sa.String(64), nullable=True),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("retired_at_us", sa.BigInteger, nullable=True),
    sa.UniqueConstraint("site_key", "key", name="uq_series_site_key"),
)

#: Every loaded site-model document, keyed by the model version it created, so the
#: accounting engine, the gateways and the server work from exactly the model last loaded.
model_document = sa.Table(
    "model_document",
    metadata,
    sa.Column("version_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("document", sa.Text, nullable=False, comment="canonical JSON of the model"),
)
