"""Dependencies shared by the route modules (``Annotated`` aliases)."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Query, Request

from tansuan.errors import NotFound, PermissionDenied
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


#: The largest row id the store can hold (a signed 64-bit BIGINT in PostgreSQL and an
#: INTEGER in SQLite). An id above it cannot exist: refused (422) before any query, which
#: would otherwise fail with OverflowError (a 500).
MAX_ID = 2**63 - 1

#: A row id in the path (grant, token, result set, proposal, …): 0 … MAX_ID, else 422.
IdPath = Annotated[int, Path(ge=0, le=MAX_ID, description="row id")]
#: A row id or count in the query string (a leaf index, a tree size): 0 … MAX_ID, else 422.
IdQuery = Annotated[int, Query(ge=0, le=MAX_ID)]

SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
IngestorDep = Annotated[Ingestor, Depends(get_ingestor)]
IngestAuth = Depends(require_ingest_token)


# --- users, tokens, scopes -------------------------------------------------------

from tansuan.store import users  # noqa: E402
from tansuan.store.scoped import Scope  # noqa: E402
from tansuan.store.users import Principal  # noqa: E402
from tansuan.web import auth  # noqa: E402

_SAFE = {"GET", "HEAD", "OPTIONS"}


def ledger_of(app: Any) -> Any:
    """The app's ledger, opened (key pair created if need be) on first use."""
    if getattr(app.state, "ledger", None) is None:
        factory = getattr(app.state, "ledger_factory", None)
        app.state.ledger = factory() if factory is not None else None
    return app.state.ledger


def get_ledger(request: Request) -> Any:
    """The app's ledger (None when the app runs without one)."""
    return ledger_of(request.app)


def legacy_ingest_principal() -> Principal:
    return Principal(0, "ingest-token", "TANSUAN_INGEST_TOKEN", "", "device",
                     frozenset({"ingest"}), deployment_wide=True)  # fmt: skip


def session_principal(request: Request) -> Principal | None:
    """The user of a valid session cookie, or None."""
    settings: Settings = request.app.state.settings
    session = auth.read_session(settings.secret_key, request.cookies.get(auth.SESSION_COOKIE))
    if session is None:
        return None
    store: Store = request.app.state.store
    with store.read() as connection:
        try:
            return users.session_user(connection, *session)
        except NotFound:
            return None


async def get_principal(
    request: Request,
    settings: Annotated[Settings, Depends(get_settings)],
    store: Annotated[Store, Depends(get_store)],
    authorization: Annotated[str | None, Header()] = None,
) -> Principal:
    """The caller: a bearer API token, else the dashboard session (with CSRF on writes)."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        token = token.strip()
        if settings.ingest_token and hmac.compare_digest(token, settings.ingest_token):
            return legacy_ingest_principal()
        with store.read() as connection:
            return users.check_token(connection, token)
    principal = session_principal(request)
    if principal is None:
        raise PermissionDenied("需要登录或 API 令牌 / log in or send an API token (Bearer)")
    if request.method not in _SAFE:
        sent = request.headers.get("x-csrf-token")
        if sent is None and "form" in request.headers.get("content-type", ""):
            sent = str((await request.form()).get("csrf") or "")
        if not auth.cookies_csrf_ok(request.cookies, settings.secret_key, sent):
            raise PermissionDenied("CSRF 校验失败 / missing or wrong CSRF token")
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_scope(request: Request, principal: PrincipalDep, store: StoreDep) -> Scope:
    with store.read() as connection:
        return Scope.load(connection, principal, get_ledger(request))


ScopeDep = Annotated[Scope, Depends(get_scope)]


def require_ingest(principal: PrincipalDep) -> Principal:
    if not principal.can("ingest"):
        raise PermissionDenied("需要写入权限 / this token or user may not ingest (scope 'ingest')")
    return principal


IngestPrincipal = Annotated[Principal, Depends(require_ingest)]

LedgerDep = Annotated[Any, Depends(get_ledger)]
