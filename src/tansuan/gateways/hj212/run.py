"""Run the HJ 212 gateway alone: ``tansuan gateway hj212 --site-model FILE``.

:func:`make_sink` is the one place that decides where readings go. The real ingest
(issue 3) is wired in here; until it is, it raises :class:`~tansuan.errors.ConfigError`.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from tansuan.errors import ConfigError
from tansuan.gateways.base import Sink
from tansuan.gateways.hj212.mapping import Directory
from tansuan.gateways.hj212.server import Hj212Server, Limits
from tansuan.settings import Settings

log = logging.getLogger(__name__)


def make_sink(settings: Settings) -> Sink:
    """The sink the gateway hands readings to: the ingest entry of the store.

    Raises
    ------
    ConfigError
        Always, for now: the ingest (issue 3) is not part of this build yet.
    """
    raise ConfigError(
        "数据接入不可用 / ingest not available: the HJ 212 gateway has no store to write "
        "to yet "
        "(wire tansuan.gateways.hj212.run.make_sink to the ingest entry)",
        field="database_url",
    )


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
