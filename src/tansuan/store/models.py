"""The current site model of every organisation in the store (several tenants, one store).

``documents.current_model`` gives the last model loaded, whichever organisation it was;
with several organisations each keeps its own newest document.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Connection, func, select

from tansuan.site.model import SiteModel
from tansuan.store.schema import model_document


def latest_version(connection: Connection) -> int:
    return int(connection.execute(select(func.max(model_document.c.version_id))).scalar() or 0)


def models_by_org(connection: Connection) -> dict[str, SiteModel]:
    """Each organisation's newest loaded model."""
    out: dict[str, SiteModel] = {}
    rows = connection.execute(
        select(model_document.c.document).order_by(model_document.c.version_id.desc())
    )
    for (text,) in rows:
        document: dict[str, Any] = orjson.loads(text)
        org = document.get("organisation", {}).get("id")
        if org and org not in out:
            out[org] = SiteModel.model_validate(document)
    return out
