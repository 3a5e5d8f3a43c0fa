"""An asyncio HJ 212-2017 client: what a data logger does (used by the simulator and tests).

:meth:`Hj212Client.send` writes a packet and, when its Flag bit A asks for an answer,
waits for the host's 9014 (data) or 9011/9012/9013 answer with the same QN. With no
answer within ``timeout_s`` it resends, up to ``retries`` times (HJ 212-2017 Table 1:
10 s × 3 over GPRS/LTE; 5 s × 3 over ADSL), then raises :class:`AnswerTimeout`.
A 9011 answer with a QnRtn other than 1 raises :class:`Rejected`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping

from tansuan.gateways.hj212 import codec
from tansuan.gateways.hj212.codec import Hj212Error, Packet
from tansuan.gateways.hj212.framing import Framer
from tansuan.settings import Settings

#: HJ 212-2017 Table 1 default over mobile networks: 10 s, 3 resends.
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_RETRIES = 3


class AnswerTimeout(Hj212Error):
    """No answer from the host after every resend."""

    reason = "timeout"


class Rejected(Hj212Error):
    """The host answered 9011 with a QnRtn other than 1 (``qn_rtn_received``)."""

    reason = "rejected"

    def __init__(self, message: str, *, qn_rtn: int, packet: Packet | None = None) -> None:
        super().__init__(message, packet=packet)
        self.qn_rtn_received = qn_rtn


class _Answers(asyncio.Protocol):
    """The client's side of the socket: collects the host's answers by QN."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.framer = Framer()
        self.waiting: dict[str | None, asyncio.Future[Packet]] = {}
        self.unclaimed: dict[str | None, Packet] = {}
        self.lost: BaseException | None = None
        self.writable = asyncio.Event()
        self.writable.set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        for item in self.framer.feed(data):
            if not isinstance(item, bytes):
                continue
            try:
                answer = codec.decode(item)
            except Hj212Error:
                continue
            future = self.waiting.pop(answer.qn, None)
            if future is not None and not future.done():
                future.set_result(answer)
            else:  # an answer nobody waits for (yet): keep the latest few
                self.unclaimed[answer.qn] = answer
                while len(self.unclaimed) > 64:
                    del self.unclaimed[next(iter(self.unclaimed))]

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = exc or ConnectionError("host closed the connection")
        for future in self.waiting.values():
            if not future.done():
                future.set_exception(self.lost)
        self.waiting.clear()
        self.writable.set()

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()


class Hj212Client:
    """One logger's connection to a host.

    ``mn``/``pw``/``st`` fill the packets built by :meth:`upload_packet`.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        mn: str,
        pw: str,
        st: str = "31",
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retries: int = DEFAULT_RETRIES,
    ) -> None:
        self.host, self.port = host, port
        self.mn, self.pw, self.st = mn, pw, st
        self.timeout_s, self.retries = timeout_s, retries
        self._protocol: _Answers | None = None
        self._seq = 0

    @classmethod
    def from_settings(cls, settings: Settings, *, mn: str, pw: str) -> Hj212Client:
        """A client of this installation's gateway with the configured timeout/resends."""
        return cls(
            settings.hj212_host,
            settings.hj212_port,
            mn=mn,
            pw=pw,
            timeout_s=settings.hj212_ack_timeout_s,
            retries=settings.hj212_ack_retries,
        )

    async def connect(self) -> None:
        loop = asyncio.get_running_loop()
        _, self._protocol = await loop.create_connection(_Answers, self.host, self.port)

    async def close(self) -> None:
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.close()
        self._protocol = None

    async def __aenter__(self) -> Hj212Client:
        await self.connect()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    def next_qn(self, now: dt.datetime | None = None) -> str:
        """A QN unique within this client: the local time, with the ms field stepping."""
        self._seq = (self._seq + 1) % 1000
        when = now or dt.datetime.now()
        return when.strftime("%Y%m%d%H%M%S") + f"{self._seq:03d}"

    def upload_packet(
        self,
        cn: str,
        data_time: str,
        values: Mapping[str, Mapping[str, object]],
        *,
        ack: bool = True,
        qn: str | None = None,
    ) -> bytes:
        """A data upload (2011/2051/2061/2031 …) from this logger."""
        cp = codec.format_cp(data_time, values)
        flag = codec.FLAG_2017 | (codec.FLAG_ACK if ack else 0)
        return codec.build(
            cn=cn, cp=cp, st=self.st, qn=qn or self.next_qn(), pw=self.pw, mn=self.mn, flag=flag
        )

    async def upload(
        self,
        cn: str,
        data_time: str,
        values: Mapping[str, Mapping[str, object]],
        *,
        ack: bool = True,
    ) -> Packet | None:
        """Send one upload; return the host's answer (None when no ack was asked)."""
        return await self.send(self.upload_packet(cn, data_time, values, ack=ack))

    async def send(self, raw: bytes) -> Packet | None:
        """Send a packet; wait for its answer when Flag bit A is set (with resends)."""
        qn, flag = codec.peek(raw)  # not decode: a test may send a broken packet on purpose
        if self._protocol is None:
            await self.connect()
        protocol = self._protocol
        assert protocol is not None and protocol.transport is not None
        loop = asyncio.get_running_loop()
        for _attempt in range(self.retries + 1):
            if protocol.lost is not None:
                raise ConnectionError("host closed the connection") from protocol.lost
            await protocol.writable.wait()
            protocol.transport.write(raw)
            if not (flag or 0) & codec.FLAG_ACK:
                return None
            answer = protocol.unclaimed.pop(qn, None)
            if answer is None:
                future: asyncio.Future[Packet] = loop.create_future()
                protocol.waiting[qn] = future
                try:
                    async with asyncio.timeout(self.timeout_s):
                        answer = await future
                except TimeoutError:
                    protocol.waiting.pop(qn, None)
                    continue
            if answer.cn == "9011":
                rtn = int(answer.cp.params.get("QnRtn", "100") or 100)
                if rtn != 1:
                    raise Rejected(f"host answered QnRtn={rtn}", qn_rtn=rtn, packet=answer)
            return answer
        raise AnswerTimeout(
            f"no answer to QN={qn} after {self.retries + 1} tries of {self.timeout_s} s"
        )
