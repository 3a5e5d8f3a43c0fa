"""The HJ 212-2017 gateway: an asyncio TCP server for many data loggers at once.

Per connection: bytes are cut into packets (:class:`~.codec.Framer`), each packet is
decoded, its MN + PW authenticated against the site model, split messages (Flag bit D,
PNUM/PNO) reassembled, and data uploads (2011, 2051, 2061, 2031, 2021, 2041) turned into
readings (:mod:`.mapping`). The readings of all connections go to one committer that
hands them to the sink in batches (group commit); a packet is answered with 9014 only
after the sink has returned — i.e. committed — and only when its Flag bit A asks. If the
sink raises, the packet is not answered, so the logger resends it.

Rejected packets (bad length or CRC, unknown MN, wrong PW, malformed fields) are answered
with 9011 and the QnRtn of :mod:`.codec`, logged with their reason, counted, and never
affect another connection. A connection is closed when it is idle too long, when a
started packet is not complete in time (slow-loris), after too many rejected packets in
a row, or when the server is at its connection limit.

Counters (``/metrics``): ``tansuan_hj212_connections_total``,
``tansuan_hj212_connections_refused_total``, ``tansuan_hj212_packets_total{cn}``,
``tansuan_hj212_errors_total{reason}``, ``tansuan_hj212_readings_total``,
``tansuan_hj212_answers_total{cn}``, ``tansuan_hj212_unmapped_codes_total``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from tansuan.gateways.base import COUNTERS, Sink
from tansuan.gateways.hj212 import codec
from tansuan.gateways.hj212.codec import Hj212Error, Packet
from tansuan.gateways.hj212.mapping import DATA_CNS, Directory, Logger, to_readings
from tansuan.ingest.reading import Reading
from tansuan.settings import Settings

log = logging.getLogger(__name__)

COUNTERS.describe("tansuan_hj212_connections_total", "HJ 212 connections accepted")
COUNTERS.describe("tansuan_hj212_connections_refused_total", "HJ 212 connections refused")
COUNTERS.describe("tansuan_hj212_packets_total", "HJ 212 packets decoded and authenticated")
COUNTERS.describe("tansuan_hj212_errors_total", "HJ 212 packets or values rejected")
COUNTERS.describe("tansuan_hj212_readings_total", "readings committed from HJ 212 uploads")
COUNTERS.describe("tansuan_hj212_answers_total", "HJ 212 answers sent")
COUNTERS.describe("tansuan_hj212_unmapped_codes_total", "HJ 212 codes with no site point")

#: Commands a logger sends that are notifications (answered with 9013 when asked).
NOTIFICATIONS = frozenset({"1013", "2081"})
#: Answers a logger sends to the host's commands; nothing to do.
ANSWERS = frozenset({"9011", "9012", "9013", "9014"})
_READ_SIZE = 65536
#: Bytes outside any packet tolerated since the last good packet.
_MAX_GARBAGE = 65536


@dataclass(frozen=True)
class Limits:
    """Timeouts [s] and limits of the server (from :class:`~tansuan.settings.Settings`)."""

    max_connections: int = 2000
    idle_timeout_s: float = 900.0
    packet_timeout_s: float = 10.0
    write_timeout_s: float = 10.0
    reassembly_timeout_s: float = 60.0
    max_errors: int = 20
    batch_max_readings: int = 20000
    max_segment: int = codec.MAX_SEGMENT
    max_pending_messages: int = 16

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            max_connections=settings.hj212_max_connections,
            idle_timeout_s=settings.hj212_idle_timeout_s,
            packet_timeout_s=settings.hj212_packet_timeout_s,
            write_timeout_s=settings.hj212_write_timeout_s,
            reassembly_timeout_s=settings.hj212_reassembly_timeout_s,
            max_errors=settings.hj212_max_errors,
            batch_max_readings=settings.hj212_batch_max_readings,
        )


class Committer:
    """Group commit: batches readings from every connection into one sink call.

    ``submit`` returns once the sink has committed the readings and raises what the
    sink raised. When a batch of several submissions fails, each is retried alone so
    one bad upload cannot make its neighbours' fail.
    """

    def __init__(self, sink: Sink, max_readings: int) -> None:
        self._sink = sink
        self._max = max_readings
        self._queue: asyncio.Queue[tuple[list[Reading], asyncio.Future[None]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.commits = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="hj212-commit")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def submit(self, readings: list[Reading]) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((readings, future))
        await future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            size = len(batch[0][0])
            while size < self._max and not self._queue.empty():
                item = self._queue.get_nowait()
                batch.append(item)
                size += len(item[0])
            await self._commit(batch)

    async def _commit(self, batch: list[tuple[list[Reading], asyncio.Future[None]]]) -> None:
        readings = [r for rs, _ in batch for r in rs]
        try:
            await asyncio.to_thread(self._sink, readings)
            self.commits += 1
        except Exception as error:  # the sink's failure is reported to each waiter
            if len(batch) == 1:
                _settle(batch[0][1], error)
                return
            for item in batch:
                await self._commit([item])
            return
        for _, future in batch:
            _settle(future, None)


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


@dataclass
class _Pending:
    """Parts of one split message."""

    deadline: float
    parts: dict[int, Packet] = field(default_factory=dict)


class _Connection:
    """State and logic of one logger's TCP connection."""

    def __init__(
        self,
        server: Hj212Server,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.server = server
        self.limits = server.limits
        self.reader = reader
        self.writer = writer
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        self.framer = codec.Framer(self.limits.max_segment)
        self.pending: dict[tuple[str | None, str | None, str], _Pending] = {}
        self.errors_in_a_row = 0
        self.frame_started: float | None = None

    async def run(self) -> None:
        limits = self.limits
        while True:
            now = time.monotonic()
            timeout = limits.idle_timeout_s
            if self.framer.pending and self.frame_started is not None:
                timeout = min(timeout, self.frame_started + limits.packet_timeout_s - now)
            if self.pending:
                first = min(p.deadline for p in self.pending.values())
                timeout = min(timeout, first - now)
            try:
                data = await asyncio.wait_for(self.reader.read(_READ_SIZE), max(timeout, 0))
            except TimeoutError:
                if self._expire_pending():
                    continue
                reason = "slow_packet" if self.framer.pending else "idle"
                COUNTERS.inc("tansuan_hj212_errors_total", reason=reason)
                log.info("hj212 %s: closing (%s timeout)", self.peer, reason)
                return
            if not data:
                return
            received = time.monotonic()
            was_pending = self.framer.pending
            for item in self.framer.feed(data):
                if isinstance(item, Hj212Error):
                    await self._reject(item, b"")
                else:
                    await self._on_frame(item)
                if self.errors_in_a_row >= limits.max_errors:
                    COUNTERS.inc("tansuan_hj212_errors_total", reason="too_many_errors")
                    log.warning(
                        "hj212 %s: closing after %d rejected packets",
                        self.peer,
                        self.errors_in_a_row,
                    )
                    return
            if not self.framer.pending:
                self.frame_started = None
            elif not was_pending or self.frame_started is None:
                self.frame_started = received
            if self.framer.garbage_bytes > _MAX_GARBAGE:
                COUNTERS.inc("tansuan_hj212_errors_total", reason="garbage")
                log.warning(
                    "hj212 %s: closing after %d bytes of garbage",
                    self.peer,
                    self.framer.garbage_bytes,
                )
                return

    def _expire_pending(self) -> bool:
        now = time.monotonic()
        expired = [key for key, p in self.pending.items() if p.deadline <= now]
        for key in expired:
            parts = self.pending.pop(key)
            COUNTERS.inc("tansuan_hj212_errors_total", reason="reassembly")
            log.warning(
                "hj212 %s: split message MN=%s QN=%s CN=%s dropped: %d part(s) of %s after %.0f s",
                self.peer,
                key[0],
                key[1],
                key[2],
                len(parts.parts),
                next(iter(parts.parts.values())).pnum,
                self.limits.reassembly_timeout_s,
            )
        return bool(expired)

    async def _on_frame(self, frame: bytes) -> None:
        try:
            packet = codec.decode(frame)
            logger = self.server.directory.authenticate(packet.mn, packet.pw)
        except Hj212Error as error:
            await self._reject(error, frame)
            return
        self.errors_in_a_row = 0
        self.framer.garbage_bytes = 0
        COUNTERS.inc("tansuan_hj212_packets_total", cn=packet.cn)
        if packet.cn in DATA_CNS:
            await self._on_upload(packet, logger)
        elif packet.cn in ANSWERS:
            log.debug("hj212 %s: answer CN=%s from MN=%s", self.peer, packet.cn, packet.mn)
        elif packet.cn in NOTIFICATIONS:
            if packet.wants_ack:
                await self._send(codec.answer(packet, "9013"), "9013")
        else:
            unsupported = codec.CnError(
                f"CN={packet.cn} is not handled by this host", packet=packet
            )
            await self._reject(unsupported, frame)

    async def _on_upload(self, packet: Packet, logger: Logger) -> None:
        parts = [packet]
        if packet.is_split:
            whole = self._reassemble(packet)
            if whole is None:
                return
            parts = whole
        cp = _merge_cp(parts) if len(parts) > 1 else packet.cp
        try:
            readings = to_readings(logger, packet.cn, cp)
        except Hj212Error as error:
            error.packet = packet
            await self._reject(error, b"")
            return
        if readings:
            try:
                await self.server.committer.submit(readings)
            except Exception as error:  # no answer: the logger resends
                COUNTERS.inc("tansuan_hj212_errors_total", reason="sink")
                log.error(
                    "hj212 %s: ingest failed for MN=%s QN=%s, not answered: %s",
                    self.peer,
                    packet.mn,
                    packet.qn,
                    error,
                )
                return
            COUNTERS.inc("tansuan_hj212_readings_total", len(readings))
        for part in parts:
            if part.wants_ack:
                await self._send(codec.answer(part, "9014"), "9014")

    def _reassemble(self, packet: Packet) -> list[Packet] | None:
        key = (packet.mn, packet.qn, packet.cn)
        pending = self.pending.get(key)
        if pending is None:
            if len(self.pending) >= self.limits.max_pending_messages:
                oldest = min(self.pending, key=lambda k: self.pending[k].deadline)
                del self.pending[oldest]
                COUNTERS.inc("tansuan_hj212_errors_total", reason="reassembly")
            pending = _Pending(time.monotonic() + self.limits.reassembly_timeout_s)
            self.pending[key] = pending
        assert packet.pno is not None and packet.pnum is not None
        pending.parts[packet.pno] = packet
        if len(pending.parts) < packet.pnum or any(
            p.pnum != packet.pnum for p in pending.parts.values()
        ):
            return None
        del self.pending[key]
        return [pending.parts[n] for n in sorted(pending.parts)]

    async def _reject(self, error: Hj212Error, frame: bytes) -> None:
        self.errors_in_a_row += 1
        COUNTERS.inc("tansuan_hj212_errors_total", reason=error.reason)
        request: Packet | dict[str, str | None]
        request = error.packet if error.packet is not None else dict(codec.salvage(frame))
        mn = request.mn if isinstance(request, Packet) else request.get("mn")
        log.warning(
            "hj212 %s: rejected packet from MN=%s [%s]: %s",
            self.peer,
            mn,
            error.reason,
            error.message,
        )
        await self._send(codec.answer(request, "9011", f"QnRtn={error.qn_rtn}"), "9011")

    async def _send(self, data: bytes, cn: str) -> None:
        self.writer.write(data)
        try:
            await asyncio.wait_for(self.writer.drain(), self.limits.write_timeout_s)
        except TimeoutError:
            COUNTERS.inc("tansuan_hj212_errors_total", reason="write_timeout")
            raise ConnectionError("answer not taken by the logger in time") from None
        COUNTERS.inc("tansuan_hj212_answers_total", cn=cn)


def _merge_cp(parts: Sequence[Packet]) -> codec.Cp:
    """One CP from the parts of a split message (DataTime from the first that has it)."""
    data_time = next((p.cp.data_time for p in parts if p.cp.data_time), None)
    values: dict[str, dict[str, str]] = {}
    params: dict[str, str] = {}
    for part in parts:
        for code, fields in part.cp.values.items():
            values.setdefault(code, {}).update(fields)
        params.update(part.cp.params)
    return codec.Cp(data_time=data_time, values=values, params=params)


class Hj212Server:
    """The gateway: ``await server.start(host, port)`` … ``await server.close()``."""

    def __init__(self, directory: Directory, sink: Sink, limits: Limits | None = None) -> None:
        self.directory = directory
        self.limits = limits or Limits()
        self.committer = Committer(sink, self.limits.batch_max_readings)
        self.active = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[object]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def port(self) -> int:
        assert self._server is not None and self._server.sockets
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.committer.start()
        self._server = await asyncio.start_server(
            self._accept, host, port, backlog=min(self.limits.max_connections, 4096)
        )
        log.info(
            "hj212 gateway listening on %s:%d (%d loggers)", host, self.port, len(self.directory)
        )

    async def serve_forever(self) -> None:
        assert self._server is not None
        await self._server.serve_forever()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):  # ends each connection's read with EOF
            writer.transport.abort()
        if self._tasks:
            _, late = await asyncio.wait(list(self._tasks), timeout=5)
            for task in late:
                task.cancel()
        if self._server is not None:
            await self._server.wait_closed()
        await self.committer.stop()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.active >= self.limits.max_connections:
            COUNTERS.inc("tansuan_hj212_connections_refused_total")
            log.warning("hj212: refusing connection, %d already open", self.active)
            writer.close()
            return
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        self.active += 1
        COUNTERS.inc("tansuan_hj212_connections_total")
        connection = _Connection(self, reader, writer)
        try:
            await connection.run()
        except (ConnectionError, OSError) as error:
            log.info("hj212 %s: connection lost: %s", connection.peer, error)
        finally:
            self.active -= 1
            self._tasks.discard(task)
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
