"""Modbus TCP servers that play the plant's meters: tansuan's Modbus gateway polls them.

One server per Modbus connection of the site model (its host and port, or an override),
holding each mapped point's latest value in its holding/input registers, encoded as the
site model says (data type, word and byte order; ``raw = (value − offset) / scale``) —
the inverse of :func:`tansuan.gateways.modbus.decode_registers`.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from tansuan.gateways.modbus import _FORMAT, WIDTH
from tansuan.site.model import Connection, ModbusAddress, Site

#: Registers each simulated server exposes (holding and input).
REGISTERS = 1000


def encode_registers(value: float, address: ModbusAddress) -> list[int]:
    """The 16-bit registers that hold ``value`` at ``address``.

    >>> from tansuan.site.model import ModbusAddress
    >>> encode_registers(3.0, ModbusAddress(connection="m", register=0, data_type="uint32",
    ...                                     scale=0.01))
    [0, 300]
    """
    raw: float | int = (value - address.offset) / address.scale
    kind = address.data_type
    if kind.startswith(("int", "uint")):
        bits = 16 * WIDTH[kind]
        raw = int(round(raw))
        raw = raw % (2**bits) if kind.startswith("uint") else raw
    data = struct.pack(">" + _FORMAT[kind], raw)
    if address.byte_order == "little":
        data = b"".join(data[i : i + 2][::-1] for i in range(0, len(data), 2))
    words = [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
    if address.word_order == "little":
        words.reverse()
    return words


class MeterServer:
    """One Modbus connection's registers, served over TCP."""

    def __init__(self, connection: Connection, points: Mapping[str, ModbusAddress]) -> None:
        self.connection = connection
        self.points = dict(points)
        self.tables: dict[int, dict[int, int]] = {3: {}, 4: {}}
        self.server: ModbusTcpServer | None = None

    def update(self, latest: Mapping[str, float]) -> int:
        """Write the latest value of every mapped point; the number written."""
        count = 0
        for point_id, address in self.points.items():
            if point_id not in latest:
                continue
            table = self.tables[3 if address.function == "holding" else 4]
            for i, word in enumerate(encode_registers(latest[point_id], address)):
                table[address.register_address + i] = word
            count += 1
        return count

    async def _action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        current_registers: list[int],
        set_values: Any,
    ) -> None:
        table = self.tables.get(function_code, {})
        for register, value in table.items():
            index = register - start_address
            if 0 <= index < len(current_registers):
                current_registers[index] = value

    async def start(self, host: str, port: int) -> None:
        bits = [SimData(0, count=16, values=False, datatype=DataType.BITS)]
        registers = [SimData(0, count=REGISTERS, values=0, datatype=DataType.REGISTERS)]
        device = SimDevice(
            id=self.connection.unit_id,
            simdata=(bits, bits, registers, registers),
            action=self._action,
        )
        self.server = ModbusTcpServer(device, address=(host, port))
        await self.server.serve_forever(background=True)

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.shutdown()  # type: ignore[no-untyped-call]
            self.server = None


def meter_servers(site: Site) -> list[MeterServer]:
    """A server for every Modbus connection with mapped points."""
    by_connection: dict[str, dict[str, ModbusAddress]] = {}
    for _, device in site.iter_devices():
        for point in device.points:
            address = point.protocol.modbus
            if address is not None:
                by_connection.setdefault(address.connection, {})[point.id] = address
    return [
        MeterServer(c, by_connection[c.id])
        for c in site.connections
        if c.protocol == "modbus" and c.id in by_connection
    ]
