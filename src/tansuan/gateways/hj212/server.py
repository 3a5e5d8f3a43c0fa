"""The HJ 212-2017 gateway: an asyncio TCP server for many data loggers at once.

Per connection: bytes are cut into packets (:class:`~.framing.Framer`), each packet is
decoded, its MN + PW authenticated against the site model, split messages (Flag bit D,
PNUM/PNO) reassembled, and data uploads (2011, 2051, 2061, 2031, 2021, 2041) turned into
readings (:mod:`.mapping`). The readings of all connections go to one
:class:`Committer` that hands them to the sink in batches (group commit); a packet is
answered with 9014 only after the sink has returned — i.e. committed — and only when
its Flag bit A asks. If the sink raises, the packet is not answered, so the logger
resends it. An upload none of whose codes maps to a point is answered at once (there is
nothing to commit).

Rejected packets (bad length or CRC, unknown MN, wrong PW, malformed fields, commands
this host does not handle) are answered with 9011 and the QnRtn of :mod:`.codec`,
logged with their reason, counted, and never affect another connection. A connection is
closed when it sends nothing for ``idle_timeout_s``, when it has sent no valid packet
within ``login_timeout_s`` of connecting (idle sockets cannot hold the slots), when a
started packet is not complete within ``packet_timeout_s`` (slow-loris), when it does
not take its answers within ``write_timeout_s``, after ``max_errors`` rejected packets
in a row, or after 64 KiB of bytes outside any packet. A new connection is refused at
once when ``max_connections_per_address`` are already open from its source address;
when ``max_connections`` are open in all, the connection that has been silent longest
among those that never sent a valid packet is closed to make room (``evicted``), and
only when every open connection has logged in is the new one refused. A connection
with 64 packets waiting for commit is not read until half of them are answered.

The server is built on :class:`asyncio.Protocol` (no task or future per packet): it is
what lets one Python process answer thousands of packets a second.

Counters (``/metrics``): ``tansuan_hj212_connections_total``,
``tansuan_hj212_connections_refused_total{reason=max_connections|per_address}``,
``tansuan_hj212_connections_evicted_total``, ``tansuan_hj212_packets_total{cn}``,
``tansuan_hj212_errors_total{reason}``, ``tansuan_hj212_readings_total``,
``tansuan_hj212_answers_total{cn}``, ``tansuan_hj212_unmapped_codes_total``,
``tansuan_hj212_quarantined_total{reason}``, ``tansuan_hj212_ignored_total{reason}``.
A packet accepted although non-standard (a PW not of 6 characters) is logged once per
logger.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tansuan.errors import InputError
from tansuan.gateways.base import COUNTERS, Sink, trim_heap
from tansuan.gateways.hj212 import codec
from tansuan.gateways.hj212.codec import Hj212Error, Packet
from tansuan.gateways.hj212.framing import Framer
from tansuan.gateways.hj212.mapping import DATA_CNS, Checks, Directory, Logger, to_readings
from tansuan.ingest.reading import Reading
from tansuan.ingest.result import REASONS
from tansuan.settings import Settings

log = logging.getLogger(__name__)

COUNTERS.describe("tansuan_hj212_connections_total", "HJ 212 connections accepted")
COUNTERS.describe("tansuan_hj212_connections_refused_total", "HJ 212 connections refused")
COUNTERS.describe(
    "tansuan_hj212_connections_evicted_total",
    "HJ 212 connections never logged in, closed to make room for a new one",
)
COUNTERS.describe("tansuan_hj212_packets_total", "HJ 212 packets decoded and authenticated")
COUNTERS.describe("tansuan_hj212_errors_total", "HJ 212 packets or values rejected")
COUNTERS.describe("tansuan_hj212_readings_total", "readings committed from HJ 212 uploads")
COUNTERS.describe("tansuan_hj212_answers_total", "HJ 212 answers sent")
COUNTERS.describe("tansuan_hj212_unmapped_codes_total", "HJ 212 codes with no site point")
COUNTERS.describe(
    "tansuan_hj212_quarantined_total",
    "HJ 212 readings committed to ingest's quarantine instead of the readings (by reason)",
)

#: Commands a logger sends that are notifications (answered with 9013 when asked).
NOTIFICATIONS = frozenset({"1013", "2081"})
#: A logger asking for the host's time; the host sends 1012 (set time) with SystemTime.
TIME_REQUEST = "1013"
#: Answers a logger sends to the host's commands; nothing to do.
ANSWERS = frozenset({"9011", "9012", "9013", "9014"})
#: Bytes outside any packet tolerated since the last good packet.
MAX_GARBAGE = 65536
#: Packets of one connection waiting for commit before it is no longer read.
MAX_IN_FLIGHT = 64
#: Parts of split messages one connection may hold for reassembly (all its messages);
#: beyond it the oldest message is dropped (a split upload needs a few parts, not 9999).
MAX_PENDING_PARTS = 256
#: CNs counted by name in ``tansuan_hj212_packets_total{cn}``; any other is ``other``
#: (a label value must come from a closed set, never from what a client sends).
KNOWN_CNS = frozenset(
    {"1011", "1012", "1013", "1061", "1062", "1072", "2011", "2021", "2031", "2041"}
    | {"2051", "2061", "2081", "3020", "9011", "9012", "9013", "9014"}
)

#: Refusals of one kind are logged at most once per this many seconds (with the count
#: of those not logged since): a flood of connections must not flood the log.
REFUSAL_LOG_INTERVAL_S = 10.0

Done = Callable[[BaseException | None], None]
#: Ingest's row-rejection codes (tansuan.ingest.result.REASONS) used as counter labels;
#: anything else is counted as ``other``.
REFUSED_REASONS = frozenset(REASONS)


class _Throttled:
    """Log lines of one kind at most once per ``interval_s``, counting the rest."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._last: dict[str, float] = {}  # keys: a closed set of reasons
        self._skipped: dict[str, int] = {}

    def log(self, kind: str, message: str, *args: object) -> None:
        now = time.monotonic()
        if now - self._last.get(kind, -self.interval_s) < self.interval_s:
            self._skipped[kind] = self._skipped.get(kind, 0) + 1
            return
        skipped = self._skipped.pop(kind, 0)
        self._last[kind] = now
        suffix = f" ({skipped} more since the last such line)" if skipped else ""
        log.warning(message + suffix, *args)


def system_now() -> datetime.datetime:
    """The real clock, for the DataTime plausibility check. Not ``tansuan.clock.now``: a
    packet arrives now, and a calendar frozen by ``TANSUAN_NOW`` (replaying a past day)
    would refuse every live upload as from the future (see tansuan/clock.py)."""
    return datetime.datetime.now(datetime.UTC)


@dataclass(frozen=True)
class Limits:
    """Timeouts [s] and limits of the server (from :class:`~tansuan.settings.Settings`)."""

    max_connections: int = 2000
    max_connections_per_address: int = 100
    idle_timeout_s: float = 900.0
    packet_timeout_s: float = 10.0
    write_timeout_s: float = 10.0
    reassembly_timeout_s: float = 60.0
    max_errors: int = 20
    login_timeout_s: float = 60.0
    batch_max_readings: int = 20000
    max_segment: int = codec.MAX_SEGMENT
    max_pending_messages: int = 16
    max_clock_skew_s: float = 600.0
    max_queued_readings: int = 20_000

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            max_connections=settings.hj212_max_connections,
            max_connections_per_address=settings.hj212_max_connections_per_address,
            idle_timeout_s=settings.hj212_idle_timeout_s,
            packet_timeout_s=settings.hj212_packet_timeout_s,
            write_timeout_s=settings.hj212_write_timeout_s,
            reassembly_timeout_s=settings.hj212_reassembly_timeout_s,
            max_errors=settings.hj212_max_errors,
            login_timeout_s=settings.hj212_login_timeout_s,
            batch_max_readings=settings.hj212_batch_max_readings,
            max_clock_skew_s=settings.hj212_max_clock_skew_s,
            max_queued_readings=settings.hj212_max_queued_readings,
        )

    @property
    def tick_s(self) -> float:
        """How often the timeouts are checked [s]."""
        shortest = min(
            self.idle_timeout_s,
            self.packet_timeout_s,
            self.write_timeout_s,
            self.reassembly_timeout_s,
            self.login_timeout_s,
        )
        return min(1.0, max(0.02, shortest / 5))


class Committer:
    """Group commit: batches the readings of every connection into one sink call.

    ``submit(readings, done)`` queues readings; ``done(None)`` is called (in the event
    loop) once the sink has committed them, ``done(error)`` if it raised. When ingest
    refuses a batch of several submissions for their data (an ``InputError``), each is
    retried alone so one bad upload cannot fail its neighbours; any other failure (the
    store is down) fails the whole batch at once. One batch commits at a time (one
    writer); the next fills meanwhile.
    """

    def __init__(self, sink: Sink, max_readings: int) -> None:
        self._sink = sink
        self._max = max_readings
        self._pending: list[tuple[list[Reading], Done]] = []
        #: Readings waiting in ``_pending`` (the gateway refuses uploads beyond its cap).
        self.queued = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.commits = 0
        #: True while a batch is being committed.
        self.busy = False

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="hj212-commit")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def submit(self, readings: list[Reading], done: Done) -> None:
        self._pending.append((readings, done))
        self.queued += len(readings)
        self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                size, count = 0, 0
                for readings, _ in self._pending:
                    if count and size + len(readings) > self._max:
                        break
                    size += len(readings)
                    count += 1
                batch, self._pending = self._pending[:count], self._pending[count:]
                self.queued -= size
                self.busy = True
                try:
                    await self._commit(batch)
                finally:
                    self.busy = False
                # not kept alive by this frame until the next wake (up to a full batch of
                # readings, their packets and connections)
                batch, readings = [], []

    async def _commit(self, batch: list[tuple[list[Reading], Done]]) -> None:
        readings = [r for rs, _ in batch for r in rs]
        try:
            result = await asyncio.to_thread(self._sink, readings)
        except Exception as error:  # reported to each submitter
            if len(batch) == 1 or not isinstance(error, InputError):
                for _, done in batch:  # the store itself failed: everyone resends
                    _call(done, error)
                return
            for item in batch:  # some upload's data was refused: find which
                await self._commit([item])
            return
        self.commits += 1
        _report_refused(result, readings)
        for _, done in batch:
            _call(done, None)


def _report_refused(result: object, readings: Sequence[Reading]) -> None:
    """Readings ingest refused row by row (kept in its quarantine, with the reason):
    counted by reason and logged, so a 9014 for them is never silent."""
    errors = getattr(result, "errors", None)
    if not errors:
        return
    reasons: dict[str, int] = {}
    for error in errors:
        reason = str(getattr(error, "code", "other"))
        reason = reason if reason in REFUSED_REASONS else "other"
        reasons[reason] = reasons.get(reason, 0) + 1
    for reason, n in reasons.items():
        COUNTERS.inc("tansuan_hj212_quarantined_total", n, reason=reason)
    first = errors[0]
    log.warning(
        "hj212: ingest quarantined %d of %d readings of a commit (%s); e.g. %s %s: %s",
        len(errors),
        len(readings),
        ", ".join(f"{k}={v}" for k, v in sorted(reasons.items())),
        getattr(first, "point", "?"),
        getattr(first, "code", "?"),
        getattr(first, "detail", ""),
    )


def _call(done: Done, error: BaseException | None) -> None:
    try:
        done(error)
    except Exception:  # one connection's failure must not stop the committer
        log.exception("hj212: answering after commit failed")


@dataclass
class _Pending:
    """Parts of one split message."""

    deadline: float
    parts: dict[int, Packet] = field(default_factory=dict)


class _Connection(asyncio.Protocol):
    """One logger's TCP connection: framing, decoding, answers, timeouts."""

    def __init__(self, server: Hj212Server) -> None:
        self.server = server
        self.limits = server.limits
        self.framer = Framer(self.limits.max_segment)
        self.pending: dict[tuple[str | None, str | None, str], _Pending] = {}
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self.address = "?"
        self.errors_in_a_row = 0
        self.in_flight = 0
        self.connected_at = self.last_data = time.monotonic()
        self.authenticated = False
        self.frame_started: float | None = None
        self.write_paused_at: float | None = None
        self.reading_paused = False
        self.busy = False  # MAX_IN_FLIGHT packets wait for commit
        self.closed = False

    # --- asyncio.Protocol ---

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        self.address = str(peer[0]) if isinstance(peer, tuple) else str(peer)
        refused = self.server.admit(self)
        if refused is not None:
            self.closed = True
            transport.abort()
            return
        COUNTERS.inc("tansuan_hj212_connections_total")

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server.release(self)

    def pause_writing(self) -> None:
        self.write_paused_at = time.monotonic()
        self._flow()

    def resume_writing(self) -> None:
        self.write_paused_at = None
        self._flow()

    def _flow(self) -> None:
        """Stop reading while answers are not taken or too many packets await commit."""
        if self.closed or self.transport is None:
            return
        limit = MAX_IN_FLIGHT // 2 if self.busy else MAX_IN_FLIGHT - 1
        self.busy = self.in_flight > limit
        pause = self.busy or self.write_paused_at is not None
        if pause != self.reading_paused:
            if pause:
                self.transport.pause_reading()
            else:
                self.transport.resume_reading()
            self.reading_paused = pause

    def data_received(self, data: bytes) -> None:
        now = self.last_data = time.monotonic()
        was_pending = self.framer.pending
        for item in self.framer.feed(data):
            if self.closed:
                return
            try:
                if isinstance(item, Hj212Error):
                    self._reject(item, b"")
                else:
                    self._on_frame(item)
            except Exception as error:  # a bug must cost one packet, not the connection
                self._internal_error(error, item if isinstance(item, bytes) else b"")
            if self.errors_in_a_row >= self.limits.max_errors:
                self.close("too_many_errors", f"{self.errors_in_a_row} rejected packets in a row")
                return
        if not self.framer.pending:
            self.frame_started = None
        elif not was_pending or self.frame_started is None:
            self.frame_started = now
        if self.framer.garbage_bytes > MAX_GARBAGE:
            self.close("garbage", f"{self.framer.garbage_bytes} bytes outside any packet")

    # --- timeouts, checked by the server every tick ---

    def check(self, now: float) -> None:
        limits = self.limits
        if (
            self.frame_started is not None
            and not self.reading_paused  # the rest of the packet is not being read
            and now - self.frame_started > limits.packet_timeout_s
        ):
            self.close("slow_packet", f"packet not complete after {limits.packet_timeout_s} s")
        elif (
            self.write_paused_at is not None and now - self.write_paused_at > limits.write_timeout_s
        ):
            self.close("write_timeout", "answers not taken", abort=True)
        elif not self.in_flight and now - self.last_data > limits.idle_timeout_s:
            self.close("idle", f"nothing received for {limits.idle_timeout_s} s")
        elif not self.authenticated and now - self.connected_at > limits.login_timeout_s:
            self.close("login_timeout", f"no valid packet in {limits.login_timeout_s} s")
        for key in [k for k, p in self.pending.items() if p.deadline <= now]:
            parts = self.pending.pop(key)
            COUNTERS.inc("tansuan_hj212_errors_total", reason="reassembly")
            log.warning(
                "hj212 %s: split message MN=%s QN=%s CN=%s dropped: %d part(s) of %s in %.0f s",
                self.peer,
                key[0],
                key[1],
                key[2],
                len(parts.parts),
                next(iter(parts.parts.values())).pnum,
                limits.reassembly_timeout_s,
            )

    def close(self, reason: str, detail: str, *, abort: bool = False) -> None:
        """Close (flushing answers already written) or abort (dropping them)."""
        if self.closed:
            return
        COUNTERS.inc("tansuan_hj212_errors_total", reason=reason)
        log.info("hj212 %s: closing (%s): %s", self.peer, reason, detail)
        self.closed = True
        if self.transport is not None:
            self.transport.abort() if abort else self.transport.close()

    # --- packets ---

    def _on_frame(self, frame: bytes) -> None:
        try:
            packet = codec.decode(frame)
            logger = self.server.directory.authenticate(packet.mn, packet.pw)
        except Hj212Error as error:
            self._reject(error, frame)
            return
        self.errors_in_a_row = 0
        self.framer.garbage_bytes = 0
        self.authenticated = True
        if packet.warnings and logger.mn not in self.server.warned:
            # once per logger: a non-standard PW is this logger's habit, not news per packet
            self.server.warned.add(logger.mn)
            log.warning("hj212 %s: MN=%s accepted, non-standard: %s", self.peer, packet.mn,
                        "; ".join(packet.warnings))  # fmt: skip
        COUNTERS.inc("tansuan_hj212_packets_total", cn=_cn_label(packet.cn))
        if packet.cn in DATA_CNS:
            self._on_upload(packet, logger)
        elif packet.cn in ANSWERS:
            log.debug("hj212 %s: answer CN=%s from MN=%s", self.peer, packet.cn, packet.mn)
        elif packet.cn in NOTIFICATIONS:
            if packet.wants_ack:
                self._send(codec.answer(packet, "9013"), "9013")
            if packet.cn == TIME_REQUEST:
                self._set_time(packet, logger)
        else:
            unsupported = codec.CnError(
                f"CN={packet.cn} is not handled by this host", packet=packet
            )
            self._reject(unsupported, frame)

    def _on_upload(self, packet: Packet, logger: Logger) -> None:
        parts = [packet]
        if packet.is_split:
            whole = self._reassemble(packet)
            if whole is None:
                return
            parts = whole
        try:
            cp = codec.merge_cp([p.cp for p in parts]) if len(parts) > 1 else packet.cp
            checks = Checks(self.server.now(), self.limits.max_clock_skew_s)
            readings = to_readings(
                logger, packet.cn, cp, qn=packet.qn, checks=checks, fed=self.server.fed
            )
        except Hj212Error as error:
            error.packet = packet
            self._reject(error, b"")
            return
        if not readings:
            self._answer(parts)
            return
        committer = self.server.committer
        if committer.queued + len(readings) > self.limits.max_queued_readings:
            # Ingest is behind: not queued, not answered (the logger resends later);
            # the queue, not the process, absorbs a flood — and stays bounded.
            COUNTERS.inc("tansuan_hj212_errors_total", reason="overloaded")
            self.server.throttled.log(
                "overloaded",
                "hj212 %s: upload MN=%s QN=%s not taken, not answered: %d readings wait "
                "for commit (hj212_max_queued_readings)",
                self.peer,
                packet.mn,
                packet.qn,
                committer.queued,
            )
            return
        self.in_flight += 1
        self._flow()

        def committed(error: BaseException | None) -> None:
            self.in_flight -= 1
            self._flow()
            if error is not None:  # no answer: the logger resends
                COUNTERS.inc("tansuan_hj212_errors_total", reason="sink")
                log.error(
                    "hj212 %s: ingest failed for MN=%s QN=%s, not answered: %s",
                    self.peer,
                    packet.mn,
                    packet.qn,
                    error,
                )
                return
            stored = sum(1 for r in readings if r.refused is None)
            COUNTERS.inc("tansuan_hj212_readings_total", stored)
            self._answer(parts)

        committer.submit(readings, committed)

    def _set_time(self, request: Packet, logger: Logger) -> None:
        """Answer a time-calibration request (1013) with a set-time command (1012)."""
        now = datetime.datetime.now(logger.timezone)
        cp = f"SystemTime={now:%Y%m%d%H%M%S}"
        command = codec.build(
            cn="1012",
            cp=cp,
            st=request.st,
            qn=codec.make_qn(now),
            pw=request.pw,
            mn=request.mn,
            flag=codec.FLAG_2017 | codec.FLAG_ACK,
        )
        self._send(command, "1012")

    def _answer(self, parts: Sequence[Packet]) -> None:
        for part in parts:
            if part.wants_ack:
                self._send(codec.answer(part, "9014"), "9014")

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
        while sum(len(p.parts) for p in self.pending.values()) > MAX_PENDING_PARTS:
            oldest = min(self.pending, key=lambda k: self.pending[k].deadline)
            del self.pending[oldest]
            COUNTERS.inc("tansuan_hj212_errors_total", reason="reassembly")
            if oldest == key:
                return None
        if len(pending.parts) < packet.pnum or any(
            p.pnum != packet.pnum for p in pending.parts.values()
        ):
            return None
        del self.pending[key]
        return [pending.parts[n] for n in sorted(pending.parts)]

    def _reject(self, error: Hj212Error, frame: bytes) -> None:
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
        self._send(codec.answer(request, "9011", f"QnRtn={error.qn_rtn}"), "9011")

    def _internal_error(self, error: Exception, frame: bytes) -> None:
        """An unexpected exception on one packet: logged with its traceback, counted,
        answered 9011 QnRtn=100; the rest of the read goes on."""
        self.errors_in_a_row += 1
        COUNTERS.inc("tansuan_hj212_errors_total", reason="internal")
        log.error(
            "hj212 %s: internal error on a packet, answered 9011: %r (frame %r)",
            self.peer,
            error,
            frame[:120],
            exc_info=error,
        )
        with contextlib.suppress(Exception):  # salvage/answer of a frame that broke the codec
            self._send(codec.answer(codec.salvage(frame), "9011", "QnRtn=100"), "9011")

    def _send(self, data: bytes, cn: str) -> None:
        if self.closed or self.transport is None:
            return
        self.transport.write(data)
        COUNTERS.inc("tansuan_hj212_answers_total", cn=cn)


def _cn_label(cn: str) -> str:
    """The ``cn`` label of a packet counter: the CN when it is a known command, else
    ``other``."""
    return cn if cn in KNOWN_CNS else "other"


class Hj212Server:
    """The gateway: ``await server.start(host, port)`` … ``await server.close()``."""

    def __init__(
        self,
        directory: Directory,
        sink: Sink,
        limits: Limits | None = None,
        *,
        now: Callable[[], datetime.datetime] = system_now,
    ) -> None:
        self.directory = directory
        self.limits = limits or Limits()
        #: The host's clock for the DataTime plausibility check (tests inject one).
        self.now = now
        self.committer = Committer(sink, self.limits.batch_max_readings)
        self.connections: set[_Connection] = set()
        #: Open connections per source address (an address leaves when its last closes).
        self.per_address: dict[str, int] = {}
        self.throttled = _Throttled(REFUSAL_LOG_INTERVAL_S)
        #: (site, point) pairs that have received their own upload (mapping.to_readings):
        #: another interval's upload for them is ignored, for any other point quarantined.
        self.fed: set[tuple[str, str]] = set()
        #: MNs of loggers whose non-standard packets were logged (once each).
        self.warned: set[str] = set()
        self._server: asyncio.Server | None = None
        self._ticker: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        assert self._server is not None and self._server.sockets
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        loop = asyncio.get_running_loop()
        self.committer.start()
        self._ticker = loop.create_task(self._tick(), name="hj212-timeouts")
        self._server = await loop.create_server(
            lambda: _Connection(self), host, port, backlog=min(self.limits.max_connections, 4096)
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
        for connection in list(self.connections):
            connection.closed = True
            if connection.transport is not None:
                connection.transport.abort()
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        await self.committer.stop()
        if self._server is not None:
            await self._server.wait_closed()

    def admit(self, connection: _Connection) -> str | None:
        """Take ``connection`` in, or the reason it is refused (counted and logged).

        Over ``max_connections_per_address`` from its address: refused. All
        ``max_connections`` slots taken: the connection silent longest among those that
        never sent a valid packet is closed (``evicted``); with none, refused.
        """
        limits = self.limits
        address = connection.address
        reason: str | None = None
        if self.per_address.get(address, 0) >= limits.max_connections_per_address:
            reason = "per_address"
        elif len(self.connections) >= limits.max_connections:
            idle = [c for c in self.connections if not c.authenticated and not c.closed]
            if idle:
                victim = min(idle, key=lambda c: c.last_data)
                COUNTERS.inc("tansuan_hj212_connections_evicted_total")
                victim.close("evicted", f"room for {connection.peer}: never logged in", abort=True)
                self.release(victim)
            else:
                reason = "max_connections"
        if reason is not None:
            COUNTERS.inc("tansuan_hj212_connections_refused_total", reason=reason)
            self.throttled.log(
                reason,
                "hj212: refusing %s (%s): %d open from that address, %d in all",
                connection.peer,
                reason,
                self.per_address.get(address, 0),
                len(self.connections),
            )
            return reason
        self.connections.add(connection)
        self.per_address[address] = self.per_address.get(address, 0) + 1
        return None

    def release(self, connection: _Connection) -> None:
        """Forget a closed connection (once; refused ones were never admitted)."""
        if connection not in self.connections:
            return
        self.connections.discard(connection)
        left = self.per_address.get(connection.address, 0) - 1
        if left > 0:
            self.per_address[connection.address] = left
        else:
            self.per_address.pop(connection.address, None)

    async def _tick(self) -> None:
        trimmed_at = self.committer.commits
        while True:
            await asyncio.sleep(self.limits.tick_s)
            now = time.monotonic()
            for connection in list(self.connections):
                connection.check(now)
            committer = self.committer
            if committer.commits != trimmed_at and not committer.queued and not committer.busy:
                # quiet after commits: give the burst's freed heap back (bench/soak_hj212.py)
                trimmed_at = committer.commits
                trim_heap()
