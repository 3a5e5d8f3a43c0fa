"""Modbus TCP gateway: polls holding/input registers per the site model's register maps.

For every ``modbus`` connection of every site, the points whose
``protocol.modbus.connection`` names it are read each ``poll_interval_s``:

* **Blocks.** Points are grouped per function (holding / input) into blocks of
  contiguous (or overlapping) registers, at most 125 registers each (the Modbus limit
  for one read), so a meter's whole map is usually one or two requests.
* **Decoding.** ``int16 uint16 int32 uint32 float32 float64`` over 1, 2 or 4
  registers. ``word_order`` is the order of the 16-bit registers (``big``: most
  significant first), ``byte_order`` the order of the two bytes inside each register
  (``big``: Modbus' own). A float32 ``ABCD`` is big/big, ``CDAB`` is word ``little``,
  ``BADC`` is byte ``little``, ``DCBA`` is both. The value handed on is
  ``raw × scale + offset``.
* **Counters.** A cumulative energy register (``kind: total_increasing``) is handed on
  as its decoded counter value, *not* as a difference: ingest holds the previous value
  and detects resets and rollovers. A uint32 counter is decoded unsigned over both
  registers, so it reads 4,294,967,295 just before it wraps to 0; :func:`wrap_value`
  gives the value at which a point's counter wraps (the site model's ``rollover`` if
  set, else ``2**bits × scale``), in the point's unit.
* **Failures.** A timeout or a lost connection closes the connection and reconnects
  with exponential back-off (``timeout_s`` per request, back-off doubling to
  ``backoff_max_s``). A Modbus exception answer (e.g. illegal address) skips that
  block for this poll and is counted. When the sink fails transiently the readings are
  kept (up to ``max_pending``) and handed over again with the next poll; when ingest
  refuses them (:class:`~tansuan.errors.InputError`) they are logged and dropped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from tansuan.gateways.base import COUNTERS, Backoff, HandOver, Link, Sink, hand_over, reconnecting
from tansuan.ingest.reading import Reading
from tansuan.site.model import Connection, ModbusAddress, Point, PointKind, SiteModel

log = logging.getLogger(__name__)

for _name, _help in {
    "tansuan_modbus_polls_total": "Modbus poll cycles per connection.",
    "tansuan_modbus_reads_total": "Modbus read requests (one per register block).",
    "tansuan_modbus_readings_total": "Readings from Modbus committed by the sink.",
    "tansuan_modbus_errors_total": "Modbus failures per connection, by kind.",
    "tansuan_modbus_connections_total": "Successful connections to Modbus servers.",
    "tansuan_modbus_dropped_total": "Modbus readings dropped (pending overflow or refused).",
}.items():
    COUNTERS.describe(_name, _help)

#: Registers per data type.
WIDTH = {"int16": 1, "uint16": 1, "int32": 2, "uint32": 2, "float32": 2, "float64": 4}
_FORMAT = {"int16": "h", "uint16": "H", "int32": "i", "uint32": "I", "float32": "f", "float64": "d"}
#: Most registers one read may ask for (Modbus Application Protocol V1.1b3, §6.3).
MAX_REGISTERS = 125


def decode_registers(
    registers: Sequence[int], data_type: str, word_order: str = "big", byte_order: str = "big"
) -> float:
    """The raw number held by 1, 2 or 4 consecutive 16-bit registers.

    >>> decode_registers([0x4049, 0x0FDB], "float32")  # doctest: +ELLIPSIS
    3.14159274...
    >>> decode_registers([0x0FDB, 0x4049], "float32", word_order="little")  # doctest: +ELLIPSIS
    3.14159274...
    >>> decode_registers([0xFFFF, 0xFFFF], "uint32")
    4294967295
    >>> decode_registers([0xFFFE], "int16")
    -2
    """
    width = WIDTH[data_type]
    if len(registers) != width:
        raise ValueError(f"{data_type} needs {width} register(s), got {len(registers)}")
    words = list(registers)
    if word_order == "little":
        words.reverse()
    little = byte_order == "little"
    raw = b"".join(int(w).to_bytes(2, "little" if little else "big") for w in words)
    value: float = struct.unpack(">" + _FORMAT[data_type], raw)[0]
    return value


def wrap_value(point: Point, address: ModbusAddress) -> float | None:
    """Where a ``total_increasing`` point's counter wraps to 0, in the point's unit.

    The site model's ``rollover`` when given; else ``2**bits × scale`` for unsigned
    integer registers; ``None`` for other points (signed and float registers do not wrap
    predictably).
    """
    if point.kind is not PointKind.total_increasing:
        return None
    if point.rollover is not None:
        return point.rollover
    if address.data_type in ("uint16", "uint32"):
        return float(2 ** (16 * WIDTH[address.data_type])) * address.scale
    return None


@dataclass(frozen=True, slots=True)
class RegisterPoint:
    """A point read from registers."""

    site: str
    point: str
    address: ModbusAddress
    kind: PointKind

    @property
    def start(self) -> int:
        return self.address.register_address

    @property
    def end(self) -> int:  # one past the last register
        return self.address.register_address + WIDTH[self.address.data_type]

    def value(self, registers: Sequence[int]) -> float:
        a = self.address
        raw = decode_registers(registers, a.data_type, a.word_order, a.byte_order)
        return float(raw) * a.scale + a.offset


@dataclass(slots=True)
class Block:
    """One read request: ``count`` registers of one function from ``start``."""

    function: str
    start: int
    count: int
    points: list[RegisterPoint] = field(default_factory=list)


def plan_blocks(points: Sequence[RegisterPoint], max_registers: int = MAX_REGISTERS) -> list[Block]:
    """Group points into as few reads as possible: contiguous or overlapping registers of
    one function, at most ``max_registers`` per read. Gaps are never read (a device may
    answer "illegal address" for an unmapped register)."""
    blocks: list[Block] = []
    for function in ("holding", "input"):
        chosen = sorted(
            (p for p in points if p.address.function == function), key=lambda p: p.start
        )
        current: Block | None = None
        for point in chosen:
            if (
                current is not None
                and point.start <= current.start + current.count
                and max(point.end, current.start + current.count) - current.start <= max_registers
            ):
                current.count = max(current.count, point.end - current.start)
                current.points.append(point)
            else:
                current = Block(function, point.start, point.end - point.start, [point])
                blocks.append(current)
    return blocks


class ModbusConnectionPoller:
    """Polls one Modbus TCP server (one site-model connection) until stopped."""

    def __init__(
        self,
        sink: Sink,
        site: str,
        connection: Connection,
        points: Sequence[RegisterPoint],
        *,
        backoff_max_s: float = 60.0,
        max_pending: int = 100_000,
    ) -> None:
        self.sink = sink
        self.site = site
        self.connection = connection
        self.label = f"{site}/{connection.id}"
        self.blocks = plan_blocks(points)
        self.backoff_max_s = backoff_max_s
        self.outbox: HandOver[Reading] = HandOver(max_pending)
        self.link = Link("modbus", self.label, log)
        self.connected = asyncio.Event()

    @property
    def pending(self) -> list[Reading]:
        """Readings a failed sink call left for the next poll, oldest first (a copy)."""
        return self.outbox.snapshot()

    async def run(self, stop: asyncio.Event) -> None:
        """Connect, poll every ``poll_interval_s``, reconnect with back-off, until ``stop``."""
        await reconnecting(
            self.link,
            self._connect_and_poll,
            stop,
            connected=self.connected,
            backoff=Backoff(self.backoff_max_s),
            errors=(TimeoutError, ModbusException, OSError),
        )

    async def _connect_and_poll(self, stop: asyncio.Event) -> None:
        c = self.connection
        client = AsyncModbusTcpClient(
            c.host or "", port=c.port or 502, timeout=c.timeout_s, retries=0, reconnect_delay=0
        )
        try:
            if not await client.connect():
                raise ConnectionError(f"cannot connect to {c.host}:{c.port}")
            self.link.count("connections_total")
            self.connected.set()
            log.info("modbus %s: connected to %s:%s", self.label, c.host, c.port)
            await self._poll_forever(client, stop)
        finally:
            client.close()

    async def _poll_forever(self, client: AsyncModbusTcpClient, stop: asyncio.Event) -> None:
        interval = self.connection.poll_interval_s
        next_at = time.monotonic()
        while not stop.is_set():
            await self.poll_once(client)
            next_at += interval
            now = time.monotonic()
            if next_at < now:  # overran: skip the missed ticks rather than bunch up
                next_at = now + interval - (now - next_at) % interval
            try:
                await asyncio.wait_for(stop.wait(), next_at - now)
            except TimeoutError:
                pass

    async def poll_once(self, client: AsyncModbusTcpClient) -> list[Reading]:
        """Read every block once and hand the readings to the sink; returns them.

        Raises the library's I/O errors (the caller reconnects)."""
        self.link.count("polls_total")
        unit = self.connection.unit_id
        readings: list[Reading] = []
        for block in self.blocks:
            read = (
                client.read_holding_registers
                if block.function == "holding"
                else client.read_input_registers
            )
            self.link.count("reads_total")
            response = await read(block.start, count=block.count, device_id=unit)
            ts = dt.datetime.now(dt.UTC)
            if response.isError():
                self.link.count("errors_total", kind="exception")
                log.warning(
                    "modbus %s: %s registers %d..%d answered %s",
                    self.label,
                    block.function,
                    block.start,
                    block.start + block.count - 1,
                    response,
                )
                continue
            registers = response.registers
            for point in block.points:
                lo = point.start - block.start
                value = point.value(registers[lo : lo + point.end - point.start])
                readings.append(Reading(self.site, point.point, ts, value))
        self.outbox.extend(readings)
        await hand_over(self.link, self.outbox, self.sink, retry_at="poll")
        return readings


class ModbusGateway:
    """Polls every Modbus connection of the site model concurrently."""

    def __init__(self, sink: Sink, model: SiteModel, *, backoff_max_s: float = 60.0) -> None:
        self.pollers: list[ModbusConnectionPoller] = []
        for site in model.sites():
            by_connection: dict[str, list[RegisterPoint]] = {}
            for _, point in site.points().values():
                address = point.protocol.modbus
                if address is not None:
                    by_connection.setdefault(address.connection, []).append(
                        RegisterPoint(site.id, point.id, address, point.kind)
                    )
            for connection in site.connections:
                if connection.protocol == "modbus" and connection.id in by_connection:
                    self.pollers.append(
                        ModbusConnectionPoller(
                            sink,
                            site.id,
                            connection,
                            by_connection[connection.id],
                            backoff_max_s=backoff_max_s,
                        )
                    )

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set."""
        if not self.pollers:
            log.warning("modbus: the site model maps no point to a modbus connection")
        await asyncio.gather(*(poller.run(stop) for poller in self.pollers))
