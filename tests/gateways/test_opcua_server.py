"""OPC UA gateway against a real asyncua server on a free localhost port."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asyncua import Server, ua

from tansuan.gateways.base import COUNTERS
from tansuan.gateways.opcua import OpcUaGateway
from tansuan.site.model import SiteModel

from .conftest import free_port
from .sqlite_sink import SqliteSink

LABEL = "plant/plc"


class Plc:
    """A PLC's address space: Boiler.FuelFlow (Double), Boiler.Running (Boolean),
    Boiler.Tag (String), Stack.Temp (Float) in namespace 2."""

    def __init__(self, port: int) -> None:
        self.url = f"opc.tcp://127.0.0.1:{port}/tansuan/"
        self.server = Server()
        self.vars: dict[str, Any] = {}

    async def start(self, flow: float = 1.5) -> None:
        await self.server.init()
        self.server.set_endpoint(self.url)
        idx = await self.server.register_namespace("urn:tansuan:test")
        assert idx == 2
        boiler = await self.server.nodes.objects.add_object(idx, "Boiler")
        initial = {
            "Boiler.FuelFlow": ua.Variant(flow, ua.VariantType.Double),
            "Boiler.Running": ua.Variant(True, ua.VariantType.Boolean),
            "Boiler.Tag": ua.Variant("B-1", ua.VariantType.String),
            "Stack.Temp": ua.Variant(120.5, ua.VariantType.Float),
        }
        for name, value in initial.items():
            self.vars[name] = await boiler.add_variable(ua.NodeId(name, idx), name, value)
        await self.server.start()

    async def stop(self) -> None:
        await self.server.stop()


def site_model(url: str, nodes: dict[str, tuple[str, int]]) -> SiteModel:
    points = [
        {
            "id": point,
            "quantity": "q",
            "unit": "dimensionless",
            "protocol": {"opcua": {"connection": "plc", "node": node, "sampling_ms": ms}},
        }
        for point, (node, ms) in nodes.items()
    ]
    return SiteModel.model_validate(
        {
            "organisation": {
                "id": "g",
                "companies": [
                    {
                        "id": "c",
                        "sites": [
                            {
                                "id": "plant",
                                "connections": [
                                    {
                                        "id": "plc",
                                        "protocol": "opcua",
                                        "endpoint": url,
                                        "timeout_s": 2,
                                    }
                                ],
                                "areas": [
                                    {
                                        "id": "u",
                                        "devices": [
                                            {"id": "b", "class": "boiler", "points": points}
                                        ],
                                    }
                                ],
                            }
                        ],
                    }
                ],
            }
        }
    )


NODES = {
    "boiler.flow": ("ns=2;s=Boiler.FuelFlow", 50),
    "boiler.running": ("ns=2;s=Boiler.Running", 50),
    "stack.temp": ("ns=2;s=Stack.Temp", 200),
}


def run(main: Callable[[], Awaitable[None]]) -> None:
    async def bounded() -> None:
        await asyncio.wait_for(main(), 90)

    asyncio.run(bounded())


async def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), timeout)


def values(sink: SqliteSink, point: str) -> list[tuple[str, float, str]]:
    return sink.rows(
        f"SELECT ts, value, quality FROM readings WHERE point = '{point}' ORDER BY rowid"
    )


def test_data_changes_become_readings_with_source_time_and_quality(sink: SqliteSink) -> None:
    """Initial values arrive on subscribing; a write with a source timestamp keeps it;
    an Uncertain value arrives flagged D; a Bad status without a value is counted, not
    stored; booleans are 1.0/0.0."""
    port = free_port()
    plc = Plc(port)
    gateway = OpcUaGateway(sink, site_model(plc.url, NODES))
    source_ts = dt.datetime(2024, 5, 1, 0, 0, 30, tzinfo=dt.UTC)
    status_errors = COUNTERS.get("tansuan_opcua_errors_total", connection=LABEL, kind="status")

    async def main() -> None:
        await plc.start()
        stop = asyncio.Event()
        task = asyncio.create_task(gateway.run(stop))
        try:
            await wait_for(lambda: sink.count() >= 3)
            await plc.vars["Boiler.FuelFlow"].write_value(
                ua.DataValue(ua.Variant(2.75, ua.VariantType.Double), SourceTimestamp=source_ts)
            )
            await plc.vars["Boiler.Running"].write_value(False)
            await wait_for(lambda: len(values(sink, "boiler.flow")) >= 2)
            await plc.vars["Stack.Temp"].write_value(
                ua.DataValue(
                    ua.Variant(99.0, ua.VariantType.Float),
                    StatusCode=ua.StatusCode(ua.StatusCodes.UncertainLastUsableValue),
                )
            )
            await wait_for(lambda: len(values(sink, "stack.temp")) >= 2)
            await plc.vars["Stack.Temp"].write_value(
                ua.DataValue(
                    ua.Variant(98.0, ua.VariantType.Float),
                    StatusCode=ua.StatusCode(ua.StatusCodes.BadNoCommunication),
                )
            )
            await wait_for(
                lambda: (
                    COUNTERS.get("tansuan_opcua_errors_total", connection=LABEL, kind="status")
                    > status_errors
                )
            )
            await wait_for(lambda: len(values(sink, "boiler.running")) >= 2)
        finally:
            stop.set()
            await task
            await plc.stop()

    run(main)
    flow = values(sink, "boiler.flow")
    assert flow[0][1:] == (1.5, "N")
    assert ("2024-05-01T00:00:30+00:00", 2.75, "N") in flow
    assert [v for _, v, _ in values(sink, "boiler.running")] == [1.0, 0.0]
    temps = values(sink, "stack.temp")
    assert temps[0][1:] == (120.5, "N")
    assert [t[1:] for t in temps] == [(120.5, "N"), (99.0, "D")]


def test_unknown_nodes_and_non_numbers_are_counted_not_fatal(sink: SqliteSink) -> None:
    port = free_port()
    plc = Plc(port)
    nodes = {
        **NODES,
        "ghost": ("ns=2;s=No.Such.Node", 50),
        "tag": ("ns=2;s=Boiler.Tag", 50),
    }
    gateway = OpcUaGateway(sink, site_model(plc.url, nodes))
    node_errors = COUNTERS.get("tansuan_opcua_errors_total", connection=LABEL, kind="node")
    type_errors = COUNTERS.get("tansuan_opcua_errors_total", connection=LABEL, kind="type")

    async def main() -> None:
        await plc.start()
        stop = asyncio.Event()
        task = asyncio.create_task(gateway.run(stop))
        try:
            await wait_for(lambda: sink.count() >= 3)
            await wait_for(
                lambda: (
                    COUNTERS.get("tansuan_opcua_errors_total", connection=LABEL, kind="type")
                    > type_errors
                )
            )
        finally:
            stop.set()
            await task
            await plc.stop()

    run(main)
    assert (
        COUNTERS.get("tansuan_opcua_errors_total", connection=LABEL, kind="node") - node_errors == 1
    )
    stored = {row[1] for row in sink.rows()}
    assert stored == {"boiler.flow", "boiler.running", "stack.temp"}


def test_reconnects_and_resubscribes_after_the_server_restarts(sink: SqliteSink) -> None:
    port = free_port()
    plc = Plc(port)
    gateway = OpcUaGateway(sink, site_model(plc.url, NODES), backoff_max_s=0.5)
    (client,) = gateway.clients
    client.watchdog_s = 0.3
    connections = COUNTERS.get("tansuan_opcua_connections_total", connection=LABEL)

    async def main() -> None:
        nonlocal plc
        await plc.start()
        stop = asyncio.Event()
        task = asyncio.create_task(gateway.run(stop))
        try:
            await wait_for(lambda: sink.count() >= 3)
            await plc.stop()
            await wait_for(lambda: not client.connected.is_set())
            plc = Plc(port)
            await plc.start(flow=8.25)
            await wait_for(lambda: any(v == 8.25 for _, v, _ in values(sink, "boiler.flow")), 30)
        finally:
            stop.set()
            await task
            await plc.stop()

    run(main)
    assert COUNTERS.get("tansuan_opcua_connections_total", connection=LABEL) - connections == 2


def test_a_server_going_away_and_a_stop_log_no_traceback(
    sink: SqliteSink, caplog: pytest.LogCaptureFixture
) -> None:
    """The demo's Ctrl-C stops the simulated PLC, then the server: serve.log used to end
    with asyncua's "Publish iteration crashed … Connection is closed" traceback, once a
    second until the 2 s watchdog noticed. The session now ends as soon as the socket
    closes, with one warning line, and a stop deletes the subscriptions first."""
    port = free_port()
    plc = Plc(port)
    gateway = OpcUaGateway(sink, site_model(plc.url, NODES), backoff_max_s=5.0)
    (client,) = gateway.clients

    async def main() -> None:
        await plc.start()
        stop = asyncio.Event()
        task = asyncio.create_task(gateway.run(stop))
        try:
            await wait_for(lambda: sink.count() >= 3)
            await plc.stop()
            await wait_for(lambda: not client.connected.is_set(), 5.0)
            await asyncio.sleep(2.5)  # the old publish loop crashed every second here
        finally:
            stop.set()
            await task

    with caplog.at_level(logging.DEBUG):
        run(main)
    tracebacks = [r for r in caplog.records if r.exc_info and r.levelno >= logging.WARNING]
    assert tracebacks == [], [r.getMessage() for r in tracebacks]
    lost = [r.getMessage() for r in caplog.records if "closed the connection" in r.getMessage()]
    assert len(lost) == 1 and "reconnecting" in lost[0]


def test_a_stop_while_the_server_runs_is_clean(
    sink: SqliteSink, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    plc = Plc(port)
    gateway = OpcUaGateway(sink, site_model(plc.url, NODES))

    async def main() -> None:
        await plc.start()
        stop = asyncio.Event()
        task = asyncio.create_task(gateway.run(stop))
        try:
            await wait_for(lambda: sink.count() >= 3)
        finally:
            stop.set()
            await task
            await plc.stop()

    with caplog.at_level(logging.DEBUG, logger="asyncua"):
        run(main)
    bad = [r.getMessage() for r in caplog.records
           if r.name.startswith("asyncua.client") and r.levelno >= logging.WARNING
           and (r.exc_info or "closed" in r.getMessage().lower())]  # fmt: skip
    assert bad == []
