"""``tansuan gateway mqtt|modbus|opcua``: run one gateway alone, until Ctrl-C / SIGTERM.

Each command loads the site model, builds the sink (:func:`runtime.make_sink`), runs
the gateway and shows a live status line with its counters. :func:`register` adds the
three commands to the ``gateway`` sub-app that ``tansuan gateway hj212`` shares.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from tansuan.cli.app import console, fail
from tansuan.errors import TansuanError

if TYPE_CHECKING:
    import asyncio

SITE_MODEL = typer.Option(..., "--site-model", help="site-model YAML / 站点模型文件")


def _setup(site_model: Path, source: str) -> tuple[Any, Any, Any]:
    from tansuan.gateways.runtime import load_model, make_sink
    from tansuan.platform import open_standalone_gateway_sink
    from tansuan.settings import get_settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        settings = get_settings()
        model = load_model(site_model)
        sink = make_sink(settings, source=source, open_sink=open_standalone_gateway_sink)
    except TansuanError as error:
        fail(error)
    return settings, model, sink


def _status(prefix: str, names: dict[str, str]) -> str:
    parts = [f"{label} {_counter_total(name):g}" for name, label in names.items()]
    return f"{prefix} · " + " · ".join(parts)


def _counter_total(name: str) -> float:
    """Sum of a counter over all its labels."""
    from tansuan.gateways.base import COUNTERS

    total = 0.0
    for line in COUNTERS.render().splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def mqtt_command(
    site_model: Path = SITE_MODEL,
    url: str | None = typer.Option(
        None, "--url", help="broker URL (default TANSUAN_MQTT_URL) / MQTT 代理地址"
    ),
) -> None:
    """Subscribe to the MQTT broker; ack after commit / 订阅 MQTT 代理，提交后确认."""
    from tansuan.gateways.mqtt import MqttGateway

    settings, model, sink = _setup(site_model, "mqtt")
    broker = url or settings.mqtt_url
    if not broker:
        fail(TansuanError("set TANSUAN_MQTT_URL or --url / 请设置 MQTT 代理地址"))
    try:
        gateway = MqttGateway(
            sink,
            url=broker,
            client_id=settings.mqtt_client_id,
            prefix=settings.mqtt_topic_prefix,
            model=model,
            session_expiry_s=settings.mqtt_session_expiry_s,
            receive_maximum=settings.mqtt_receive_maximum,
            batch_max=settings.mqtt_batch_max,
            max_payload_bytes=settings.mqtt_max_payload_bytes,
            reconnect_max_s=settings.gateway_backoff_max_s,
        )
    except TansuanError as error:
        fail(error)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    names = {
        "tansuan_mqtt_messages_total": "消息 messages",
        "tansuan_mqtt_readings_total": "读数 readings",
        "tansuan_mqtt_rejected_total": "拒收 rejected",
        "tansuan_mqtt_errors_total": "错误 errors",
    }
    gateway.start()
    try:
        with console.status(f"MQTT {broker} …") as status:
            while not stop.wait(1.0):
                state = "已连接 connected" if gateway.connected.is_set() else "连接中 connecting"
                status.update(_status(f"MQTT {broker} {state}", names))
    except KeyboardInterrupt:
        pass
    finally:
        gateway.stop()
    console.print(_status("MQTT 已停止 / stopped", names))


def _run_async(make: Callable[[asyncio.Event], Coroutine[Any, Any, None]], title: str) -> None:
    import asyncio

    names = {
        f"tansuan_{title}_readings_total": "读数 readings",
        f"tansuan_{title}_errors_total": "错误 errors",
        f"tansuan_{title}_connections_total": "连接 connections",
    }

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        task = asyncio.create_task(make(stop))
        with console.status(title) as status:
            while not task.done():
                status.update(_status(title, names))
                await asyncio.wait({task}, timeout=1.0)
        await task

    asyncio.run(main())
    console.print(_status(f"{title} 已停止 / stopped", names))


def modbus_command(site_model: Path = SITE_MODEL) -> None:
    """Poll the site model's Modbus TCP meters / 轮询 Modbus TCP 仪表."""
    from tansuan.gateways.modbus import ModbusGateway

    settings, model, sink = _setup(site_model, "modbus")
    gateway = ModbusGateway(sink, model, backoff_max_s=settings.gateway_backoff_max_s)
    _run_async(gateway.run, "modbus")


def opcua_command(site_model: Path = SITE_MODEL) -> None:
    """Subscribe to the site model's OPC UA nodes / 订阅 OPC UA 节点."""
    from tansuan.gateways.opcua import OpcUaGateway

    settings, model, sink = _setup(site_model, "opcua")
    gateway = OpcUaGateway(sink, model, backoff_max_s=settings.gateway_backoff_max_s)
    _run_async(gateway.run, "opcua")


def register(app: typer.Typer) -> None:
    """Add the ``mqtt``, ``modbus`` and ``opcua`` commands to ``app``."""
    app.command("mqtt")(mqtt_command)
    app.command("modbus")(modbus_command)
    app.command("opcua")(opcua_command)
