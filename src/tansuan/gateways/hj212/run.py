"""Run the HJ 212 gateway alone: ``tansuan gateway hj212 --site-model FILE``.

:func:`make_sink` is the one place that decides where readings go. The real ingest
is the platform's (:mod:`tansuan.platform`).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from tansuan.gateways.base import Sink
from tansuan.gateways.hj212.mapping import Directory
from tansuan.gateways.hj212.server import Hj212Server, Limits
from tansuan.settings import Settings

log = logging.getLogger(__name__)


def make_sink(settings: Settings) -> Sink:
    """The sink the HJ 212 gateway hands readings to (see :func:`..runtime.make_sink`)."""
    from tansuan.gateways.runtime import make_sink as shared

    return shared(settings, source="hj212")


async def serve(settings: Settings, directory: Directory, sink: Sink) -> None:
    """Serve until cancelled."""
    server = Hj212Server(directory, sink, Limits.from_settings(settings))
    await server.start(settings.hj212_host, settings.hj212_port)
    try:
        await server.serve_forever()
    finally:
        await server.close()


def run(settings: Settings, site_model: Path) -> None:
    """Load the site model, make the sink, and serve (blocking)."""
    from tansuan.site.validate import load

    directory = Directory.from_site_model(load(site_model))
    sink = make_sink(settings)
    asyncio.run(serve(settings, directory, sink))
