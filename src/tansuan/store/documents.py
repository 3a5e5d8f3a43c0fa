"""Every loaded site-model document, so the current model can be read back from the store.

The entity tables hold the model's *state* (with history) for queries; ``model_document``
(:mod:`tansuan.store.schema.site`) keeps the document itself, keyed by the model version
it created, so the accounting engine, the gateways and the server work from exactly the
model last loaded.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Connection, select

from tansuan.errors import NotFound
from tansuan.site.model import SiteModel, dump
from tansuan.store.schema import model_document


def save_document(connection: Connection, version_id: int, model: SiteModel) -> None:
    """Keep the document of the model version ``version_id`` (once)."""
    exists = connection.execute(
        select(model_document.c.version_id).where(model_document.c.version_id == version_id)
    ).first()
    if exists is None:
        text = orjson.dumps(dump(model), option=orjson.OPT_SORT_KEYS).decode()
        connection.execute(model_document.insert().values(version_id=version_id, document=text))


def latest_document(connection: Connection) -> dict[str, Any] | None:
    row = connection.execute(
        select(model_document.c.document).order_by(model_document.c.version_id.desc()).limit(1)
    ).first()
    return None if row is None else dict(orjson.loads(row[0]))


def current_model(store: Any) -> SiteModel:
    """The site model last loaded into ``store``; :class:`NotFound` if none was."""
    with store.read() as connection:
        document = latest_document(connection)
    if document is None:
        raise NotFound("no site model has been loaded: run `tansuan site load FILE` first")
    return SiteModel.model_validate(document)
