"""What ``tansuan serve`` runs beside the web app: the gateways, the STH schedule and the
alerts job (:mod:`tansuan.analytics.alerts_job`).

Each service is a background job of the app (``create_app(background=…)``): it starts
once the store is open and is cancelled at shutdown. Every gateway hands its readings to
the platform's one ingest entry (:mod:`tansuan.platform`), labelled with its protocol.
Gateways serve the site models loaded when the server starts; restart the server after
``tansuan site load`` to serve a changed model.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from tansuan.analytics.alerts_job import run_schedule, webhooks
from tansuan.errors import ConfigError
from tansuan.gateways.base import COUNTERS, Counters
from tansuan.gateways.hj212.mapping import Directory
from tansuan.gateways.hj212.server import Hj212Server, Limits
from tansuan.settings import Settings

log = logging.getLogger(__name__)

Job = Callable[[Any], Coroutine[Any, Any, None]]
SERVICES = ("hj212", "modbus", "opcua", "mqtt", "alerts")


def _models(app: Any) -> list[Any]:
    return [accountant.model for accountant in app.state.accountants.all().values()]


async def _until_cancelled(stop: asyncio.Event, runs: list[Coroutine[Any, Any, None]]) -> None:
    try:
        await asyncio.gather(*runs)
    except asyncio.CancelledError:
        stop.set()
        raise


def jobs(settings: Settings) -> list[Job]:
    """The background jobs for ``settings.serve_services`` (and the STH schedule)."""
    wanted = {name.strip() for name in settings.serve_services.split(",") if name.strip()}
    unknown = wanted - set(SERVICES)
    if unknown:
        raise ConfigError(
            f"unknown service(s) {', '.join(sorted(unknown))}; choose from {', '.join(SERVICES)}",
            field="serve_services",
        )

    async def sth(app: Any) -> None:
        platform = app.state.platform
        await platform.ledger.run_schedule(platform.store.engine, settings.ledger_sth_interval_s)

    async def hj212(app: Any) -> None:
        directory = Directory.from_site_models(_models(app))
        sink = app.state.platform.for_source("hj212").sink
        server = Hj212Server(directory, sink, Limits.from_settings(settings))
        await server.start(settings.hj212_host, settings.hj212_port)
        log.info("HJ 212 gateway on %s:%d", settings.hj212_host, settings.hj212_port)
        try:
            await server.serve_forever()
        finally:
            await server.close()

    async def modbus(app: Any) -> None:
        from tansuan.gateways.modbus import ModbusGateway  # deferred: pymodbus, if enabled

        sink = app.state.platform.for_source("modbus").sink
        stop = asyncio.Event()
        gateways = [
            ModbusGateway(sink, model, backoff_max_s=settings.gateway_backoff_max_s)
            for model in _models(app)
        ]
        await _until_cancelled(stop, [g.run(stop) for g in gateways])

    async def opcua(app: Any) -> None:
        from tansuan.gateways.opcua import OpcUaGateway  # deferred: asyncua, if enabled

        sink = app.state.platform.for_source("opcua").sink
        stop = asyncio.Event()
        gateways = [
            OpcUaGateway(sink, model, backoff_max_s=settings.gateway_backoff_max_s)
            for model in _models(app)
        ]
        await _until_cancelled(stop, [g.run(stop) for g in gateways])

    async def mqtt(app: Any) -> None:
        from tansuan.gateways.mqtt import MqttGateway  # deferred: paho-mqtt, if enabled

        models = _models(app)
        if not settings.mqtt_url or not models:
            return
        if len(models) > 1:
            log.warning("the MQTT gateway serves organisation %s only", models[0].organisation.id)
        gateway = MqttGateway(
            app.state.platform.for_source("mqtt").sink,
            url=settings.mqtt_url,
            client_id=settings.mqtt_client_id,
            prefix=settings.mqtt_topic_prefix,
            model=models[0],
            session_expiry_s=settings.mqtt_session_expiry_s,
            receive_maximum=settings.mqtt_receive_maximum,
            batch_max=settings.mqtt_batch_max,
            max_payload_bytes=settings.mqtt_max_payload_bytes,
            reconnect_max_s=settings.gateway_backoff_max_s,
        )
        gateway.start()
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.to_thread(gateway.stop)

    # --- alerts: evaluated for every site and delivered on a schedule ---
    if "alerts" in wanted:
        webhooks(settings)  # a malformed webhook stops `tansuan serve` at start

    async def alerts(app: Any) -> None:
        await run_schedule(app, settings)

    table: dict[str, Job] = {"hj212": hj212, "modbus": modbus, "opcua": opcua, "mqtt": mqtt,
                             "alerts": alerts}  # fmt: skip
    return [sth, *(table[name] for name in SERVICES if name in wanted)]


def gateway_status(counters: Counters = COUNTERS) -> list[dict[str, Any]]:
    """The data-quality page's gateway table, from the gateways' counters.

    One row per Modbus / OPC UA connection (``site/connection``), one for the HJ 212 server
    and one for the MQTT subscription; "connected" means it has connected and delivered,
    ``last_seen`` (ISO 8601, UTC) is when it last delivered readings (None before the
    first), the last column counts errors by reason.
    """
    counts = counters.snapshot()
    increased = counters.last_increased()
    rows: dict[tuple[str, str], dict[str, Any]] = {}

    def row(protocol: str, name: str, site: str | None) -> dict[str, Any]:
        return rows.setdefault(
            (protocol, name),
            {"name": name, "protocol": protocol, "site": site, "connected": False,
             "last_seen": None, "errors": {}},
        )  # fmt: skip

    for (metric, labels), value in counts.items():
        parts = metric.split("_")
        if len(parts) < 3 or parts[0] != "tansuan" or parts[1] not in SERVICES:
            continue
        protocol, what = parts[1], "_".join(parts[2:])
        label = dict(labels)
        connection = label.get("connection")
        name = connection or {"hj212": "HJ 212 server", "mqtt": "MQTT subscription"}.get(
            protocol, protocol
        )
        site = connection.split("/")[0] if connection else None
        entry = row(protocol, name, site)
        if what in ("readings_total", "packets_total", "messages_total") and value > 0:
            entry["connected"] = True
        if what == "readings_total" and (at := increased.get((metric, labels))) is not None:
            seen = dt.datetime.fromtimestamp(at, dt.UTC).isoformat()
            entry["last_seen"] = max(entry["last_seen"] or seen, seen)
        if what.startswith("errors") or what == "rejected_total":
            reason = label.get("reason") or label.get("kind") or what.removesuffix("_total")
            entry["errors"][reason] = entry["errors"].get(reason, 0) + int(value)
    out = []
    for entry in rows.values():
        errors = entry.pop("errors")
        entry["last_error"] = ", ".join(f"{k} ×{v}" for k, v in sorted(errors.items()))
        out.append(entry)
    return sorted(out, key=lambda r: (r["protocol"], r["name"]))
