"""The FastAPI application: ``create_app(settings)``.

Run it with ``uvicorn --factory tansuan.web.app:app_from_env`` (settings from the
environment). Errors from tansuan become RFC 9457 problem details in exactly one
handler (:mod:`tansuan.web.problems`); OpenAPI is at ``/docs``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, PlainTextResponse

from tansuan import __version__
from tansuan.accounting.registry import Accountants
from tansuan.errors import PermissionDenied, TansuanError
from tansuan.gateways.base import COUNTERS
from tansuan.ingest.ingestor import Ingestor
from tansuan.ingest.result import BatchHook
from tansuan.ledger import Ledger
from tansuan.platform import open_platform
from tansuan.settings import Settings, get_settings
from tansuan.store import Store
from tansuan.views.alerts import site_alerts
from tansuan.web import filing_pages, insights_pages, pages, workbench_pages
from tansuan.web.deps import PrincipalDep
from tansuan.web.jobs import Jobs
from tansuan.web.limits import UploadLimits
from tansuan.web.problems import problem_handler
from tansuan.web.routes import allowance as allowance_routes
from tansuan.web.routes import emissions, grants, manual_data, readings, reports, sites, users
from tansuan.web.routes import evidence as evidence_routes
from tansuan.web.routes import filing as filing_routes
from tansuan.web.routes import insights as insights_routes
from tansuan.web.routes import jobs as jobs_routes
from tansuan.web.routes import ledger as ledger_routes
from tansuan.web.routes import workbench as workbench_routes

#: A background job the server runs while it is up (gateways, the STH schedule, …):
#: called with the app once the store is open; cancelled at shutdown.
BackgroundTask = Callable[[FastAPI], Coroutine[Any, Any, None]]


def create_app(
    settings: Settings | None = None,
    *,
    store: Store | None = None,
    batch_hooks: Sequence[BatchHook] = (),
    ledger: Any = None,
    background: Sequence[BackgroundTask] = (),
    gateway_status: Callable[[], list[dict[str, Any]]] | None = None,
) -> FastAPI:
    """Build the app; the store is opened (and its schema upgraded) at startup."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = store is None
        if store is None:
            # The deployment's platform: one store, its ingest with the ledger and the
            # accounting stale marks as batch hooks, one accountant per organisation.
            platform = open_platform(settings)
            app.state.platform = platform
            app.state.store = platform.store
            app.state.ingestor = platform.ingestor
            app.state.ledger = ledger or platform.ledger
            app.state.accountants = platform.accountants
        else:
            app.state.store = store
            app.state.ingestor = Ingestor(store, batch_hooks=batch_hooks)
            # The key pair is created on first use (a grant, a proof), not at every start.
            app.state.ledger = ledger
            app.state.accountants = Accountants(store)
        app.state.ledger_factory = lambda: Ledger.from_data_dir(
            settings.data_dir, witness_url=settings.ledger_witness_url
        )
        tasks: list[asyncio.Task[None]] = [asyncio.create_task(job(app)) for job in background]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            if own:
                app.state.store.close()

    app = FastAPI(
        title="tansuan (碳算) API",
        version=__version__,
        description="Readings, manual data and (later) results of the tansuan MRV platform.",
        lifespan=lifespan,
        docs_url=None,  # served below from the vendored Swagger UI (no CDN)
        redoc_url=None,  # ReDoc would load from a CDN: /docs is the one API browser
    )
    app.state.settings = settings
    # Background jobs (large imports) and their progress, for GET /api/v1/jobs/{id}.
    app.state.jobs = Jobs(kept=settings.upload_jobs_kept)
    # Gateways report {"name", "protocol", "site", "connected", "last_seen", "last_error"}
    # per connection; the data-quality page lists them (the gateways report their state there).
    app.state.gateway_status = gateway_status
    # The alerts view, for the server's alerts job (analytics/alerts_job.py, a lower layer).
    app.state.site_alerts = site_alerts
    app.add_exception_handler(TansuanError, problem_handler)
    # Body size limits of the upload routes, enforced while the body streams in.
    app.add_middleware(UploadLimits, settings=settings)
    app.include_router(readings.router)
    app.include_router(manual_data.router)
    app.include_router(evidence_routes.router)
    app.include_router(jobs_routes.router)
    for module in (emissions, sites, grants, users, ledger_routes, reports, filing_routes):
        app.include_router(module.router)
    pages.install(app)
    app.include_router(insights_routes.router)
    app.include_router(insights_pages.router)
    app.include_router(filing_pages.router)
    app.include_router(allowance_routes.router)
    app.include_router(workbench_routes.router)
    app.include_router(workbench_pages.router)
    app.add_api_route("/docs", api_docs, methods=["GET"], include_in_schema=False)
    app.add_api_route(
        "/metrics",
        metrics,
        methods=["GET"],
        response_class=PlainTextResponse,
        summary="Gateway counters in Prometheus text format",
        tags=["operations / 运维"],
    )
    return app


def api_docs() -> HTMLResponse:
    """Swagger UI for ``/openapi.json``, from the package's vendored copy
    (``web/static/vendor``, see its README.txt): works without internet access."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="tansuan (碳算) API",
        swagger_js_url="/static/vendor/swagger-ui-bundle.js",
        swagger_css_url="/static/vendor/swagger-ui.css",
        swagger_favicon_url="/static/vendor/swagger-ui-favicon.png",
    )


def metrics(principal: PrincipalDep) -> PlainTextResponse:
    """Connection, packet, reading and error counters of every gateway (Prometheus 0.0.4).

    Needs an admin user or an API token with the ``admin`` scope: the counters name
    sites and connections.
    """
    if not principal.can("admin"):
        raise PermissionDenied("需要管理权限 / /metrics needs the admin scope")
    return PlainTextResponse(
        COUNTERS.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
    )


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory``."""
    return create_app(get_settings())
