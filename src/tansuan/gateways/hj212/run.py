"""Run the HJ 212 gateway alone: ``tansuan gateway hj212 --site-model FILE``.

:func:`~tansuan.gateways.runtime.make_sink` decides where readings go; the real
ingest is the platform's, which the caller hands in as ``open_sink``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from tansuan.gateways.base import Sink
from tansuan.gateways.hj212.mapping import Directory
from tansuan.gateways.hj212.server import Hj212Server, Limits
from tansuan.gateways.runtime import SinkOpener, load_model, make_sink
from tansuan.settings import Settings


async def serve(settings: Settings, directory: Directory, sink: Sink) -> None:
    """Serve until cancelled."""
    server = Hj212Server(directory, sink, Limits.from_settings(settings))
    await server.start(settings.hj212_host, settings.hj212_port)
    try:
        await server.serve_forever()
    finally:
        await server.close()


def run(settings: Settings, site_model: Path, open_sink: SinkOpener) -> None:
    """Load the site model, make the sink (``open_sink`` unless the setting
    ``gateway_sink`` names another), and serve (blocking)."""
    directory = Directory.from_site_model(load_model(site_model))
    sink = make_sink(settings, source="hj212", open_sink=open_sink)
    asyncio.run(serve(settings, directory, sink))
