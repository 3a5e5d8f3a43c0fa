"""Every table of the store (SQLAlchemy Core) on one ``MetaData``, the same on SQLite and
PostgreSQL.

The store owns the schema of everything tansuan keeps in its database; the packages that
use a family of tables import them from here:

* :mod:`.site` — the site model: versions, entities and their history, points, series,
  the loaded model documents;
* :mod:`.readings` — readings (current, staging, superseded versions), ingest batches,
  quarantine, hourly and daily rollups, manual series entries;
* :mod:`.results` — accounting result sets and lines, locked months, stale marks;
* :mod:`.ledger` — the tamper-evident Merkle log's leaves, nodes, state and tree heads;
* :mod:`.access` — web users, API tokens, share grants and their read audit log;
* :mod:`.market` — allowance accounts and trades, alert events;
* :mod:`.evidence` — files attached to a source-month, a manual entry or a request;
* :mod:`.workbench` — the verifier's requests, findings, replies and sign-offs.

The migrations in ``tansuan/store/migrations`` create them; :data:`metadata` is the
Alembic environment's ``target_metadata``, and ``tests/store/test_store_schema_migrations``
checks that a freshly migrated database matches it exactly.
"""

from __future__ import annotations

from tansuan.store.schema.access import (
    DATA_CLASSES,
    ROLES,
    SCOPES,
    api_token,
    grant_read,
    share_grant,
    web_user,
)
from tansuan.store.schema.base import RowId, metadata
from tansuan.store.schema.evidence import evidence
from tansuan.store.schema.ledger import (
    LEDGER_TABLES,
    POSTGRES_BODY_STORAGE,
    ledger_leaves,
    ledger_nodes,
    ledger_state,
    ledger_sth,
)
from tansuan.store.schema.market import alert_event, allowance_account, allowance_trade
from tansuan.store.schema.readings import (
    counter_flag,
    ingest_batch,
    meter_replacement,
    quarantine,
    reading,
    reading_staging,
    reading_version,
    rollup_day,
    rollup_hour,
    series_entry,
)
from tansuan.store.schema.results import (
    declaration,
    period_locks,
    result_lines,
    result_sets,
    stale_marks,
)
from tansuan.store.schema.site import (
    entity,
    entity_history,
    model_document,
    model_version,
    point,
    series,
)
from tansuan.store.schema.workbench import (
    verifier_finding,
    verifier_reply,
    verifier_request,
    verifier_signoff,
)

__all__ = [
    "DATA_CLASSES",
    "LEDGER_TABLES",
    "POSTGRES_BODY_STORAGE",
    "ROLES",
    "SCOPES",
    "RowId",
    "alert_event",
    "allowance_account",
    "allowance_trade",
    "api_token",
    "declaration",
    "counter_flag",
    "entity",
    "evidence",
    "entity_history",
    "grant_read",
    "ingest_batch",
    "ledger_leaves",
    "ledger_nodes",
    "ledger_state",
    "ledger_sth",
    "metadata",
    "meter_replacement",
    "model_document",
    "model_version",
    "period_locks",
    "point",
    "quarantine",
    "reading",
    "reading_staging",
    "reading_version",
    "result_lines",
    "result_sets",
    "rollup_day",
    "rollup_hour",
    "series",
    "series_entry",
    "share_grant",
    "stale_marks",
    "verifier_finding",
    "verifier_reply",
    "verifier_request",
    "verifier_signoff",
    "web_user",
]
