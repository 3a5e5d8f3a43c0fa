"""An OPC UA server that plays a PLC: tansuan's OPC UA gateway subscribes to its nodes.

One server per OPC UA connection of the site model (its endpoint, or an override); each
mapped point is a Double variable whose node id is the one in the site model
(``ns=2;s=Boiler.FuelFlow`` — string ids in the twin's namespace, index 2).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from asyncua import ua
from asyncua.server.server import Server

from tansuan.errors import ConfigError
from tansuan.site.model import Connection, Site

NAMESPACE = "urn:tansuan:twin"
_NODE = re.compile(r"^ns=(\d+);s=(.+)$")


class PlcServer:
    """One OPC UA connection's variables, served by asyncua."""

    def __init__(self, connection: Connection, points: Mapping[str, str]) -> None:
        self.connection = connection
        self.points = dict(points)  # point id -> node id
        for node in self.points.values():
            match = _NODE.match(node)
            if match is None or match.group(1) != "2":
                raise ConfigError(
                    f"the twin serves string node ids in namespace 2 (ns=2;s=…), not {node!r}",
                    field=f"{connection.id}.node",
                )
        self.server: Server | None = None
        self.variables: dict[str, Any] = {}

    async def start(self, endpoint: str, initial: Mapping[str, float]) -> None:
        server = Server()
        await server.init()
        server.set_endpoint(endpoint)
        idx = await server.register_namespace(NAMESPACE)  # 2: the first after the standard
        plc = await server.nodes.objects.add_object(idx, "TwinPLC")
        for point_id, node in self.points.items():
            name = node.split(";s=", 1)[1]
            value = ua.Variant(float(initial.get(point_id, 0.0)), ua.VariantType.Double)
            self.variables[point_id] = await plc.add_variable(
                ua.NodeId.from_string(node), name, value
            )
        await server.start()
        self.server = server

    async def update(self, latest: Mapping[str, float]) -> int:
        """Write the latest value of every mapped point; the number written."""
        count = 0
        for point_id, variable in self.variables.items():
            if point_id in latest:
                await variable.write_value(
                    ua.Variant(float(latest[point_id]), ua.VariantType.Double)
                )
                count += 1
        return count

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
            self.server = None


def plc_servers(site: Site) -> list[PlcServer]:
    """A server for every OPC UA connection with mapped points."""
    by_connection: dict[str, dict[str, str]] = {}
    for _, device in site.iter_devices():
        for point in device.points:
            address = point.protocol.opcua
            if address is not None:
                by_connection.setdefault(address.connection, {})[point.id] = address.node
    return [
        PlcServer(c, by_connection[c.id])
        for c in site.connections
        if c.protocol == "opcua" and c.id in by_connection
    ]
