"""Wiring a gateway to its sink and site model for a stand-alone run.

``make_sink`` is the one place that decides where gateways hand their readings. With
the setting ``gateway_sink`` (``module:factory``) it imports ``factory`` and calls it
with the settings; without it, it calls the ``open_sink`` its caller passes — in
production the platform's one ingest entry (store, ledger leaf per batch, accounting
stale marks), which sits above the gateways and so is handed down, not imported here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from tansuan.errors import ConfigError
from tansuan.gateways.base import Sink
from tansuan.settings import Settings
from tansuan.site.model import SiteModel
from tansuan.site.validate import load

#: Opens the default sink for a gateway: ``open_sink(settings, source)``, where
#: ``source`` names the gateway (``hj212``, ``mqtt``, ``modbus``, ``opcua``).
SinkOpener = Callable[[Settings, str], Sink]


def make_sink(settings: Settings, *, source: str = "gateway", open_sink: SinkOpener) -> Sink:
    """The sink gateways hand readings to.

    ``source`` names the gateway (``mqtt``, ``modbus``, ``opcua``) for ingest's records;
    ``open_sink`` makes the sink when the setting ``gateway_sink`` does not name one.

    Raises
    ------
    ConfigError
        ``gateway_sink`` cannot be imported or is not callable.
    """
    if settings.gateway_sink:
        module_name, _, attr = settings.gateway_sink.partition(":")
        if not module_name or not attr:
            raise ConfigError("expected 'module:factory'", field="gateway_sink")
        try:
            factory = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as error:
            raise ConfigError(f"cannot import {settings.gateway_sink!r}: {error}") from None
        sink = factory(settings)
        if not callable(sink):
            raise ConfigError(f"{settings.gateway_sink!r} did not return a callable sink")
        return sink  # type: ignore[no-any-return]
    return open_sink(settings, source)


def load_model(path: Path) -> SiteModel:
    """The site model a gateway serves (validated; raises ValidationFailed)."""
    return load(path)
