"""The FastAPI application: ``create_app(settings)``.

Run it with ``uvicorn --factory tansuan.web.app:app_from_env`` (settings from the
environment). Errors from tansuan become RFC 9457 problem details in exactly one
handler (:mod:`tansuan.web.problems`); OpenAPI is at ``/docs``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI

from tansuan import __version__
from tansuan.errors import TansuanError
from tansuan.ingest.ingestor import Ingestor
from tansuan.ingest.result import BatchHook
from tansuan.settings import Settings, get_settings
from tansuan.store import Store
from tansuan.web.problems import problem_handler
from tansuan.web.routes import manual_data, readings


def create_app(
    settings: Settings | None = None,
    *,
    store: Store | None = None,
    batch_hooks: Sequence[BatchHook] = (),
) -> FastAPI:
    """Build the app; the store is opened (and its schema upgraded) at startup."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = store is None
        app.state.store = store or Store(settings=settings)
        app.state.ingestor = Ingestor(app.state.store, batch_hooks=batch_hooks)
        try:
            yield
        finally:
            if own:
                app.state.store.close()

    app = FastAPI(
        title="tansuan (碳算) API",
        version=__version__,
        description="Readings, manual data and (later) results of the tansuan MRV platform.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.add_exception_handler(TansuanError, problem_handler)
    app.include_router(readings.router)
    app.include_router(manual_data.router)
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory``."""
    return create_app(get_settings())
