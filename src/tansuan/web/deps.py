"""Dependencies shared by the route modules (``Annotated`` aliases)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, Request

from tansuan.errors import PermissionDenied
from tansuan.ingest.ingestor import Ingestor
from tansuan.settings import Settings
from tansuan.store import Store


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_ingestor(request: Request) -> Ingestor:
    ingestor: Ingestor = request.app.state.ingestor
    return ingestor


def require_ingest_token(
    settings: Annotated[Settings, Depends(get_settings)],
    authorization: Annotated[str | None, Header()] = None,
) -> None:
    """Check ``Authorization: Bearer <TANSUAN_INGEST_TOKEN>`` when a token is configured.

    A stop-gap: real users, roles and share grants come with the auth issue.
    """
    expected = settings.ingest_token
    if not expected:
        return
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), expected):
        raise PermissionDenied("a valid bearer token (TANSUAN_INGEST_TOKEN) is required")


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
IngestorDep = Annotated[Ingestor, Depends(get_ingestor)]
IngestAuth = Depends(require_ingest_token)
