"""Modbus gateway against a real pymodbus TCP server simulating a three-phase meter.

Register map of the simulated meter (unit 1):

holding  0,2,4   phase voltages L1..L3     float32 ABCD [V]
holding  6,8,10  phase currents L1..L3     float32 ABCD [A]
holding  12      total active power         float32 ABCD [kW]
holding  14      power factor               int16, scale 0.001
holding  100     active energy import       uint32 ABCD, 0.01 kWh per count (wraps)
input    0       frequency                  uint16, scale 0.01 [Hz]
input    1       temperature                int16, scale 0.1, offset 0 [degC]
input    2       reactive power             float32 CDAB (word-swapped) [kW]

Register values are built with ``struct`` in this file, independently of the
gateway's decoder.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from tansuan.gateways.base import COUNTERS
from tansuan.gateways.modbus import ModbusGateway
from tansuan.site.model import SiteModel, dump

from .conftest import free_port
from .sqlite_sink import SqliteSink


def f32(value: float) -> list[int]:
    return list(struct.unpack(">HH", struct.pack(">f", value)))


class Meter:
    """The simulated meter; ``holding``/``input`` map register address → 16-bit value."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.holding: dict[int, int] = {}
        self.input: dict[int, int] = {}
        self.server: ModbusTcpServer | None = None
        for i, volts in enumerate((230.1, 229.8, 231.0)):
            self.set(self.holding, 2 * i, f32(volts))
        for i, amps in enumerate((10.5, 10.25, 11.0)):
            self.set(self.holding, 6 + 2 * i, f32(amps))
        self.set(self.holding, 12, f32(7.25))
        self.set(self.holding, 14, [950])
        self.set_energy(0xFFFF_FFF0)  # 4,294,967,280 counts: 16 counts before the wrap
        self.set(self.input, 0, [5000])
        self.set(self.input, 1, [0x10000 - 125])
        high, low = f32(-1.5)
        self.set(self.input, 2, [low, high])

    @staticmethod
    def set(table: dict[int, int], address: int, registers: list[int]) -> None:
        for i, value in enumerate(registers):
            table[address + i] = value

    def set_energy(self, counts: int) -> None:
        self.set(self.holding, 100, [counts >> 16, counts & 0xFFFF])

    async def _action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        current_registers: list[int],
        set_values: Any,
    ) -> None:
        table = {3: self.holding, 4: self.input}.get(function_code, {})
        for register, value in table.items():
            index = register - start_address
            if 0 <= index < len(current_registers):
                current_registers[index] = value

    async def start(self) -> None:
        bits = [SimData(0, count=16, values=False, datatype=DataType.BITS)]
        device = SimDevice(
            id=1,
            simdata=(
                bits,
                bits,
                [SimData(0, count=200, values=0, datatype=DataType.REGISTERS)],
                [SimData(0, count=20, values=0, datatype=DataType.REGISTERS)],
            ),
            action=self._action,
        )
        self.server = ModbusTcpServer(device, address=("127.0.0.1", self.port))
        await self.server.serve_forever(background=True)

    async def stop(self) -> None:
        assert self.server is not None
        await self.server.shutdown()


def site_model(port: int, extra_points: list[dict[str, Any]] | None = None) -> SiteModel:
    def mb(register: int, data_type: str = "float32", **kw: Any) -> dict[str, Any]:
        return {
            "modbus": {"connection": "meter", "register": register, "data_type": data_type, **kw}
        }

    points = [
        {"id": "v1", "quantity": "voltage", "unit": "V", "protocol": mb(0)},
        {"id": "v2", "quantity": "voltage", "unit": "V", "protocol": mb(2)},
        {"id": "v3", "quantity": "voltage", "unit": "V", "protocol": mb(4)},
        {"id": "i1", "quantity": "current", "unit": "A", "protocol": mb(6)},
        {"id": "i2", "quantity": "current", "unit": "A", "protocol": mb(8)},
        {"id": "i3", "quantity": "current", "unit": "A", "protocol": mb(10)},
        {"id": "p", "quantity": "power", "unit": "kW", "protocol": mb(12)},
        {
            "id": "pf",
            "quantity": "pf",
            "unit": "dimensionless",
            "protocol": mb(14, "int16", scale=0.001),
        },
        {
            "id": "energy",
            "quantity": "energy",
            "unit": "kWh",
            "kind": "total_increasing",
            "protocol": mb(100, "uint32", scale=0.01),
        },
        {
            "id": "f",
            "quantity": "frequency",
            "unit": "Hz",
            "protocol": mb(0, "uint16", function="input", scale=0.01),
        },
        {
            "id": "t",
            "quantity": "temperature",
            "unit": "degC",
            "protocol": mb(1, "int16", function="input", scale=0.1),
        },
        {
            "id": "q",
            "quantity": "power",
            "unit": "kW",
            "protocol": mb(2, function="input", word_order="little"),
        },
        *(extra_points or []),
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
                                        "id": "meter",
                                        "protocol": "modbus",
                                        "host": "127.0.0.1",
                                        "port": port,
                                        "unit_id": 1,
                                        "poll_interval_s": 0.2,
                                        "timeout_s": 1,
                                    }
                                ],
                                "areas": [
                                    {
                                        "id": "sub",
                                        "devices": [
                                            {"id": "m", "class": "meter", "points": points}
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


EXPECTED = {  # float32 values rounded as the register holds them
    "v1": struct.unpack(">f", struct.pack(">f", 230.1))[0],
    "v2": struct.unpack(">f", struct.pack(">f", 229.8))[0],
    "v3": 231.0,
    "i1": 10.5,
    "i2": 10.25,
    "i3": 11.0,
    "p": 7.25,
    "pf": 0.95,  # 950 × 0.001
    "energy": 42_949_672.80,  # 4,294,967,280 × 0.01 kWh
    "f": 50.0,  # 5000 × 0.01 Hz
    "t": -12.5,  # -125 × 0.1 °C
    "q": -1.5,
}


def run(coro_factory: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(coro_factory(), 60))  # type: ignore[arg-type]


async def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout)


def test_one_poll_reads_the_whole_meter_in_three_requests(sink: SqliteSink) -> None:
    port = free_port()
    model = site_model(port)
    (poller,) = ModbusGateway(sink, model).pollers
    assert [(b.function, b.start, b.count) for b in poller.blocks] == [
        ("holding", 0, 15),
        ("holding", 100, 2),
        ("input", 0, 4),
    ]

    async def main() -> None:
        meter = Meter(port)
        await meter.start()
        client = AsyncModbusTcpClient(
            "127.0.0.1", port=port, timeout=1, retries=0, reconnect_delay=0
        )
        await client.connect()
        reads = COUNTERS.get("tansuan_modbus_reads_total", connection="plant/meter")
        try:
            readings = await poller.poll_once(client)
        finally:
            client.close()
            await meter.stop()
        assert COUNTERS.get("tansuan_modbus_reads_total", connection="plant/meter") - reads == 3
        assert {r.point: r.value for r in readings} == pytest.approx(EXPECTED)

    run(main)
    assert {row[1]: row[3] for row in sink.rows()} == pytest.approx(EXPECTED)


def test_energy_counter_rolls_over_and_is_handed_on_raw(sink: SqliteSink) -> None:
    """The uint32 counter goes 0xFFFFFFF0 → 5 counts: the readings show 42,949,672.80
    then 0.05 kWh (5 × 0.01); the wrap itself is ingest's to detect."""
    port = free_port()
    gateway = ModbusGateway(sink, site_model(port))

    def energies() -> list[float]:
        return [
            row[0]
            for row in sink.rows("SELECT value FROM readings WHERE point = 'energy' ORDER BY ts")
        ]

    async def main() -> None:
        meter = Meter(port)
        await meter.start()
        stop = asyncio.Event()
        task = asyncio.create_task(gateway.run(stop))
        try:
            await wait_for(lambda: len(energies()) >= 1)
            meter.set_energy(5)
            await wait_for(lambda: energies()[-1] == pytest.approx(0.05))
        finally:
            stop.set()
            await task
            await meter.stop()

    run(main)
    values = energies()
    assert values[0] == pytest.approx(42_949_672.80)
    assert values[-1] == pytest.approx(0.05)
    assert all(v in (pytest.approx(42_949_672.80), pytest.approx(0.05)) for v in values)


def test_reconnects_after_the_meter_goes_away(sink: SqliteSink) -> None:
    port = free_port()
    gateway = ModbusGateway(sink, site_model(port), backoff_max_s=0.5)
    label = "plant/meter"

    async def main() -> None:
        meter = Meter(port)
        await meter.start()
        connections = COUNTERS.get("tansuan_modbus_connections_total", connection=label)
        stop = asyncio.Event()
        task = asyncio.create_task(gateway.run(stop))
        try:
            await wait_for(lambda: sink.count() >= 12)
            await meter.stop()
            errors = COUNTERS.get("tansuan_modbus_errors_total", connection=label, kind="io")
            await wait_for(
                lambda: (
                    COUNTERS.get("tansuan_modbus_errors_total", connection=label, kind="io")
                    > errors
                )
            )
            stored = sink.count()
            meter = Meter(port)
            meter.set(meter.holding, 12, f32(9.5))
            await meter.start()
            await wait_for(lambda: sink.count() > stored, timeout=15)
        finally:
            stop.set()
            await task
            await meter.stop()
        assert COUNTERS.get("tansuan_modbus_connections_total", connection=label) - connections >= 2

    run(main)
    powers = [
        row[0] for row in sink.rows("SELECT value FROM readings WHERE point = 'p' ORDER BY ts")
    ]
    assert powers[0] == 7.25 and powers[-1] == 9.5


def test_an_exception_answer_skips_only_its_block(sink: SqliteSink) -> None:
    """Register 500 is outside the meter's map: that read gets 'illegal data address';
    the other blocks are still read and stored."""
    port = free_port()
    bad = {
        "id": "ghost",
        "quantity": "power",
        "unit": "kW",
        "protocol": {"modbus": {"connection": "meter", "register": 500}},
    }
    (poller,) = ModbusGateway(sink, site_model(port, [bad])).pollers

    async def main() -> None:
        meter = Meter(port)
        await meter.start()
        client = AsyncModbusTcpClient(
            "127.0.0.1", port=port, timeout=1, retries=0, reconnect_delay=0
        )
        await client.connect()
        label = "plant/meter"
        errors = COUNTERS.get("tansuan_modbus_errors_total", connection=label, kind="exception")
        try:
            readings = await poller.poll_once(client)
        finally:
            client.close()
            await meter.stop()
        assert (
            COUNTERS.get("tansuan_modbus_errors_total", connection=label, kind="exception") - errors
            == 1
        )
        assert {r.point for r in readings} == set(EXPECTED)

    run(main)


def test_sink_failure_keeps_the_readings_for_the_next_poll(sink: SqliteSink) -> None:
    port = free_port()
    (poller,) = ModbusGateway(sink, site_model(port)).pollers
    sink.fail_next = 1

    async def main() -> None:
        meter = Meter(port)
        await meter.start()
        client = AsyncModbusTcpClient(
            "127.0.0.1", port=port, timeout=1, retries=0, reconnect_delay=0
        )
        await client.connect()
        try:
            first = await poller.poll_once(client)
            assert sink.count() == 0 and len(poller.pending) == 12
            second = await poller.poll_once(client)
        finally:
            client.close()
            await meter.stop()
        stamps = {row[2] for row in sink.rows()}
        assert {first[0].ts.isoformat(), second[0].ts.isoformat()} <= stamps
        assert sink.count() == 24 and poller.pending == []

    run(main)


def test_unreachable_meter_counts_connect_errors(sink: SqliteSink) -> None:
    port = free_port()  # nothing listens here
    gateway = ModbusGateway(sink, site_model(port), backoff_max_s=0.2)
    label = "plant/meter"
    before = COUNTERS.get("tansuan_modbus_errors_total", connection=label, kind="connect")

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(gateway.run(stop))
        await wait_for(
            lambda: (
                COUNTERS.get("tansuan_modbus_errors_total", connection=label, kind="connect")
                - before
                >= 2
            )
        )
        stop.set()
        await task

    run(main)
    assert sink.count() == 0


def test_a_silent_device_does_not_stall_the_other_connections(sink: SqliteSink) -> None:
    """A second 'meter' accepts TCP connections but never answers: its reads time out
    (timeout_s 0.3) and it reconnects, while the real meter keeps being polled."""
    port, silent_port = free_port(), free_port()
    data = dump(site_model(port))
    site = data["organisation"]["companies"][0]["sites"][0]
    site["connections"].append(
        {"id": "silent", "protocol": "modbus", "host": "127.0.0.1", "port": silent_port,
         "poll_interval_s": 0.2, "timeout_s": 0.3}
    )  # fmt: skip
    site["areas"][0]["devices"][0]["points"].append(
        {"id": "mute", "quantity": "power", "unit": "kW",
         "protocol": {"modbus": {"connection": "silent", "register": 0}}}
    )  # fmt: skip
    gateway = ModbusGateway(sink, SiteModel.model_validate(data), backoff_max_s=0.2)
    silent_label = "plant/silent"

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(1024):
            pass  # never answer
        writer.close()

    async def main() -> None:
        meter = Meter(port)
        await meter.start()
        silent = await asyncio.start_server(swallow, "127.0.0.1", silent_port)
        io_errors = COUNTERS.get("tansuan_modbus_errors_total", connection=silent_label, kind="io")
        stop = asyncio.Event()
        task = asyncio.create_task(gateway.run(stop))
        try:
            await wait_for(
                lambda: (
                    COUNTERS.get("tansuan_modbus_errors_total", connection=silent_label, kind="io")
                    - io_errors
                    >= 2
                )
            )
            polls = len(sink.rows("SELECT DISTINCT ts FROM readings WHERE point = 'p'"))
            await asyncio.sleep(1.0)
            later = len(sink.rows("SELECT DISTINCT ts FROM readings WHERE point = 'p'"))
        finally:
            stop.set()
            await task
            await meter.stop()
            silent.close()
            await silent.wait_closed()
        assert later - polls >= 3  # ~5 polls in 1 s at 0.2 s; the silent one stalls nobody

    run(main)
    assert sink.rows("SELECT count(*) FROM readings WHERE point = 'mute'") == [(0,)]
