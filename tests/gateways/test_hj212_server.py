"""The HJ 212 gateway over real TCP sockets, committing into a real SQLite table."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import pytest

from tansuan.gateways.base import COUNTERS
from tansuan.gateways.hj212 import codec
from tansuan.gateways.hj212.client import AnswerTimeout, Hj212Client, Rejected
from tansuan.gateways.hj212.server import Limits

from .hj212_fixtures import PW, FailingSink, SqliteSink, mn, read_answer, running, site_model

MINUTE = {"a05001": {"Avg": 82000.5, "Flag": "N"}, "a00000": {"Avg": 5.331, "Flag": "N"}}


@pytest.fixture
def sink(tmp_path: Path) -> SqliteSink:
    return SqliteSink(tmp_path / "readings.db")


def test_upload_is_committed_then_answered(sink: SqliteSink) -> None:
    async def scenario() -> None:
        async with running(site_model(1), sink) as server:
            async with Hj212Client("127.0.0.1", server.port, mn=mn(0), pw=PW) as client:
                raw = client.upload_packet("2051", "20240101100100", MINUTE, qn="20240101100130001")
                answer = await client.send(raw)
            assert answer is not None
            assert (answer.cn, answer.qn, answer.st, answer.mn) == (
                "9014",
                "20240101100130001",
                "91",
                mn(0),
            )
            assert answer.crc_ok and not answer.wants_ack

    asyncio.run(scenario())
    assert sink.rows() == [
        ("plant", "s0.co2", "2024-01-01T02:01:00+00:00", 82000.5, "N"),
        ("plant", "s0.flow", "2024-01-01T02:01:00+00:00", 5.331, "N"),
    ]


def test_no_answer_without_the_ack_flag(sink: SqliteSink) -> None:
    async def scenario() -> None:
        async with running(site_model(1), sink) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            client = Hj212Client("127.0.0.1", server.port, mn=mn(0), pw=PW)
            writer.write(client.upload_packet("2051", "20240101100100", MINUTE, ack=False))
            await writer.drain()
            with pytest.raises(TimeoutError):
                await read_answer(reader, timeout=0.5)
            writer.close()

    asyncio.run(scenario())
    assert len(sink.rows()) == 2


def test_no_answer_when_the_sink_raises(tmp_path: Path) -> None:
    failing = FailingSink()
    before = COUNTERS.get("tansuan_hj212_errors_total", reason="sink")

    async def scenario() -> None:
        async with running(site_model(1), failing) as server:
            async with Hj212Client(
                "127.0.0.1", server.port, mn=mn(0), pw=PW, timeout_s=0.3, retries=2
            ) as client:
                with pytest.raises(AnswerTimeout):
                    await client.upload("2051", "20240101100100", MINUTE)

    asyncio.run(scenario())
    assert failing.calls == 3  # first try and two resends, none answered
    assert COUNTERS.get("tansuan_hj212_errors_total", reason="sink") - before == 3


def test_answer_waits_for_commit(tmp_path: Path) -> None:
    """The 9014 answer is written only after the sink has returned."""
    events: list[str] = []
    inner = SqliteSink(tmp_path / "r.db")

    def slow_sink(readings):  # type: ignore[no-untyped-def]
        time.sleep(0.3)
        inner(readings)
        events.append("committed")

    async def scenario() -> None:
        async with running(site_model(1), slow_sink) as server:
            async with Hj212Client("127.0.0.1", server.port, mn=mn(0), pw=PW) as client:
                start = time.monotonic()
                await client.upload("2051", "20240101100100", MINUTE)
                events.append("answered")
                assert time.monotonic() - start >= 0.3

    asyncio.run(scenario())
    assert events == ["committed", "answered"]
    assert len(inner.rows()) == 2


def test_split_packets_are_reassembled(sink: SqliteSink) -> None:
    """Flag=7 (2017, D, A): two parts, the second without DataTime; both answered."""
    qn = "20240101100130001"

    def part(pno: int, cp: str) -> bytes:
        return codec.build(cn="2061", cp=cp, qn=qn, pw=PW, mn=mn(0), flag=7, pnum=2, pno=pno)

    async def scenario() -> None:
        async with running(site_model(1), sink) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(part(1, "DataTime=20240101100000;a19001-Avg=8.5"))
            await writer.drain()
            with pytest.raises(TimeoutError):  # nothing committed yet: no answer
                await read_answer(reader, timeout=0.3)
            assert sink.rows() == []
            writer.write(part(2, "a19001-Flag=M;a00000-Cou=19191.973,a00000-Flag=N"))
            answers = [codec.decode(await read_answer(reader)) for _ in range(2)]
            assert [(a.cn, a.qn) for a in answers] == [("9014", qn), ("9014", qn)]
            writer.close()

    asyncio.run(scenario())
    assert sink.rows() == [
        ("plant", "s0.flow.h", "2024-01-01T02:00:00+00:00", 19191.973, "N"),
        ("plant", "s0.o2.h", "2024-01-01T02:00:00+00:00", 8.5, "M"),
    ]


def test_incomplete_split_message_times_out(sink: SqliteSink) -> None:
    before = COUNTERS.get("tansuan_hj212_errors_total", reason="reassembly")

    async def scenario() -> None:
        async with running(site_model(1), sink, Limits(reassembly_timeout_s=0.2)) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(
                codec.build(
                    cn="2061",
                    cp="DataTime=20240101100000;a19001-Avg=8.5",
                    qn="1",
                    pw=PW,
                    mn=mn(0),
                    flag=7,
                    pnum=3,
                    pno=1,
                )
            )
            await writer.drain()
            with pytest.raises(TimeoutError):
                await read_answer(reader, timeout=0.6)
            writer.close()

    asyncio.run(scenario())
    assert sink.rows() == []
    assert COUNTERS.get("tansuan_hj212_errors_total", reason="reassembly") - before == 1


@pytest.mark.parametrize(
    ("mutate", "qn_rtn", "reason"),
    [
        (lambda raw: raw[:-6] + b"0000\r\n", 9, "crc"),
        (lambda raw: raw.replace(PW.encode(), b"654321"), 3, "password"),
        (lambda raw: raw.replace(mn(0).encode(), b"77777770000000"), 4, "mn"),
        (lambda raw: b"##" + f"{int(raw[2:6]) + 1:04d}".encode() + raw[6:], 100, "length"),
    ],
    ids=["crc", "password", "unknown-mn", "length"],
)
def test_rejections_get_qnrtn_and_neighbours_are_unaffected(
    sink: SqliteSink,
    mutate,
    qn_rtn: int,
    reason: str,  # type: ignore[no-untyped-def]
) -> None:
    before = COUNTERS.get("tansuan_hj212_errors_total", reason=reason)

    async def scenario() -> None:
        async with running(site_model(2), sink) as server:
            bad = Hj212Client("127.0.0.1", server.port, mn=mn(0), pw=PW)
            good = Hj212Client("127.0.0.1", server.port, mn=mn(1), pw=PW)
            async with bad, good:
                raw = bad.upload_packet("2051", "20240101100100", MINUTE, qn="20240101100130007")
                if reason in ("password", "mn"):  # a field change needs a fresh CRC
                    raw = codec.frame(mutate(raw)[6:-6].decode())
                else:
                    raw = mutate(raw)
                with pytest.raises(Rejected) as info:
                    await bad.send(raw)
                answer = info.value.packet
                assert answer is not None and answer.cn == "9011"
                assert answer.qn == "20240101100130007"  # echoes the request's QN
                assert info.value.qn_rtn_received == qn_rtn
                # the same connection still works, and so does its neighbour
                assert (await bad.upload("2051", "20240101100200", MINUTE)) is not None
                assert (await good.upload("2051", "20240101100100", MINUTE)) is not None

    asyncio.run(scenario())
    points = sorted({(row[1], row[2]) for row in sink.rows()})
    assert points == [
        ("s0.co2", "2024-01-01T02:02:00+00:00"),
        ("s0.flow", "2024-01-01T02:02:00+00:00"),
        ("s1.co2", "2024-01-01T02:01:00+00:00"),
        ("s1.flow", "2024-01-01T02:01:00+00:00"),
    ]
    assert COUNTERS.get("tansuan_hj212_errors_total", reason=reason) - before == 1


def test_garbage_between_packets_is_skipped(sink: SqliteSink) -> None:
    async def scenario() -> None:
        async with running(site_model(1), sink) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            client = Hj212Client("127.0.0.1", server.port, mn=mn(0), pw=PW)
            raw = client.upload_packet("2051", "20240101100100", MINUTE, qn="11")
            writer.write(b"\x00\xffAT+OK\r\n" + raw[:20])
            await writer.drain()
            writer.write(raw[20:] + b"junk")
            answer = codec.decode(await read_answer(reader))
            assert (answer.cn, answer.qn) == ("9014", "11")
            writer.close()

    asyncio.run(scenario())
    assert len(sink.rows()) == 2


def test_unsupported_command_is_answered_with_9011(sink: SqliteSink) -> None:
    async def scenario() -> None:
        async with running(site_model(1), sink) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(codec.build(cn="3012", cp="", qn="5", pw=PW, mn=mn(0)))
            answer = codec.decode(await read_answer(reader))
            assert (answer.cn, answer.cp.params) == ("9011", {"QnRtn": "8"})
            writer.write(
                codec.build(cn="2081", cp="RestartTime=20240101000000", qn="6", pw=PW, mn=mn(0))
            )
            answer = codec.decode(await read_answer(reader))
            assert (answer.cn, answer.qn) == ("9013", "6")
            writer.close()

    asyncio.run(scenario())


def test_two_hundred_concurrent_loggers(sink: SqliteSink) -> None:
    """200 loggers on real sockets, 3 minute uploads each: all committed, all answered."""
    n, uploads = 200, 3

    async def logger(port: int, i: int) -> int:
        answered = 0
        async with Hj212Client("127.0.0.1", port, mn=mn(i), pw=PW) as client:
            for minute in range(uploads):
                answer = await client.upload("2051", f"2024010110{minute:02d}00", MINUTE)
                answered += answer is not None and answer.cn == "9014"
        return answered

    async def scenario() -> list[int]:
        limits = Limits(max_connections_per_address=n)  # all from 127.0.0.1
        async with running(site_model(n), sink, limits) as server:
            return await asyncio.gather(*(logger(server.port, i) for i in range(n)))

    assert asyncio.run(scenario()) == [uploads] * n
    rows = sink.rows()
    assert len(rows) == n * uploads * 2
    assert sink.calls < n * uploads  # group commit: fewer commits than packets


def test_slow_loris_does_not_stall_others(sink: SqliteSink) -> None:
    """A client dribbling a packet byte by byte is cut off; others are served meanwhile."""
    before = COUNTERS.get("tansuan_hj212_errors_total", reason="slow_packet")

    async def scenario() -> None:
        limits = Limits(packet_timeout_s=0.5, idle_timeout_s=5)
        async with running(site_model(2), sink, limits) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            slow = Hj212Client("127.0.0.1", server.port, mn=mn(0), pw=PW)
            raw = slow.upload_packet("2051", "20240101100100", MINUTE)

            async def dribble() -> bool:
                for byte in raw:
                    writer.write(bytes([byte]))
                    try:
                        await writer.drain()
                    except ConnectionError:
                        return True
                    await asyncio.sleep(0.05)
                    if reader.at_eof():
                        return True
                return False

            dribbler = asyncio.create_task(dribble())
            async with Hj212Client("127.0.0.1", server.port, mn=mn(1), pw=PW) as fast:
                for minute in range(5):
                    start = time.monotonic()
                    await fast.upload("2051", f"2024010110{minute:02d}00", MINUTE)
                    assert time.monotonic() - start < 2  # the dribble lasts 7 s
            try:  # closed by the server: EOF, or a reset if our bytes were still arriving
                assert await asyncio.wait_for(reader.read(), 3) == b""
            except ConnectionResetError:
                pass
            assert await dribbler
            writer.close()

    asyncio.run(scenario())
    assert {row[1] for row in sink.rows()} == {"s1.co2", "s1.flow"}
    assert COUNTERS.get("tansuan_hj212_errors_total", reason="slow_packet") - before == 1


def test_connection_limit(sink: SqliteSink) -> None:
    """Full with loggers that have logged in: a new connection is refused (one that
    never logged in would have been closed to make room, see test_hj212_connections)."""

    async def scenario() -> None:
        async with running(site_model(1), sink, Limits(max_connections=2)) as server:
            client = Hj212Client("127.0.0.1", server.port, mn=mn(0), pw=PW)
            open_ = []
            for minute in ("20240101100100", "20240101100200"):
                reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
                writer.write(client.upload_packet("2051", minute, MINUTE))
                assert codec.decode(await read_answer(reader)).cn == "9014"
                open_.append(writer)
            third = await asyncio.open_connection("127.0.0.1", server.port)
            assert await asyncio.wait_for(third[0].read(), 2) == b""  # refused
            for writer in (*open_, third[1]):
                writer.close()

    asyncio.run(scenario())


def test_idle_connection_is_closed(sink: SqliteSink) -> None:
    async def scenario() -> None:
        async with running(site_model(1), sink, Limits(idle_timeout_s=0.3)) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            assert await asyncio.wait_for(reader.read(), 2) == b""
            writer.close()

    asyncio.run(scenario())


def test_repeated_garbage_closes_the_connection(sink: SqliteSink) -> None:
    async def scenario() -> None:
        async with running(site_model(1), sink, Limits(max_errors=3)) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"##00xx" * 3)
            await writer.drain()
            data = await asyncio.wait_for(reader.read(), 2)
            answers = [codec.decode(line) for line in data.split(b"\r\n") if line]
            assert [a.cp.params["QnRtn"] for a in answers] == ["100"] * 3
            writer.close()

    asyncio.run(scenario())


def test_a_failing_upload_does_not_fail_its_batch_neighbours(sink: SqliteSink) -> None:
    """Ingest refuses one upload (a negative CO2 value); the others in the same
    group commit are retried alone, committed and answered."""
    from tansuan.errors import InputError

    failed_batches: list[int] = []

    def picky(readings):  # type: ignore[no-untyped-def]
        if sink.calls == 0:
            time.sleep(0.3)  # the first commit is slow: the others pile up into one batch
        if any(r.value < 0 for r in readings):
            failed_batches.append(len(readings))
            raise InputError("negative concentration")
        sink(readings)

    n = 30

    async def logger(port: int, i: int) -> str:
        values = {"a05001": {"Avg": -1 if i == 7 else 100 + i, "Flag": "N"}}
        async with Hj212Client("127.0.0.1", port, mn=mn(i), pw=PW, timeout_s=2, retries=0) as c:
            await asyncio.sleep(0.1 if i else 0)
            try:
                await c.upload("2051", "20240101100100", values)
            except AnswerTimeout:
                return "unanswered"
        return "answered"

    async def scenario() -> list[str]:
        async with running(site_model(n), picky) as server:
            return await asyncio.gather(*(logger(server.port, i) for i in range(n)))

    results = asyncio.run(scenario())
    assert results == ["unanswered" if i == 7 else "answered" for i in range(n)]
    assert sorted(row[1] for row in sink.rows()) == sorted(f"s{i}.co2" for i in range(n) if i != 7)
    assert failed_batches[0] > 1 and failed_batches[-1] == 1  # shared batch, then alone


def test_resend_after_a_failed_commit_is_stored_once(sink: SqliteSink) -> None:
    """The store is down for the first try; the logger's resend is committed and
    answered, and the reading is stored exactly once."""
    calls: list[int] = []

    def flaky(readings):  # type: ignore[no-untyped-def]
        calls.append(len(readings))
        if len(calls) == 1:
            raise OSError("disk full")
        sink(readings)

    async def scenario() -> None:
        async with running(site_model(1), flaky) as server:
            async with Hj212Client(
                "127.0.0.1", server.port, mn=mn(0), pw=PW, timeout_s=0.5, retries=3
            ) as client:
                answer = await client.upload("2051", "20240101100100", MINUTE)
                assert answer is not None and answer.cn == "9014"

    asyncio.run(scenario())
    assert calls == [2, 2]
    assert len(sink.rows()) == 2


def test_counters_for_metrics(sink: SqliteSink) -> None:
    packets = COUNTERS.get("tansuan_hj212_packets_total", cn="2051")
    readings = COUNTERS.get("tansuan_hj212_readings_total")
    answers = COUNTERS.get("tansuan_hj212_answers_total", cn="9014")
    connections = COUNTERS.get("tansuan_hj212_connections_total")

    async def scenario() -> None:
        async with running(site_model(1), sink) as server:
            async with Hj212Client("127.0.0.1", server.port, mn=mn(0), pw=PW) as client:
                await client.upload("2051", "20240101100100", MINUTE)
                await client.upload("2051", "20240101100200", MINUTE)

    asyncio.run(scenario())
    assert COUNTERS.get("tansuan_hj212_packets_total", cn="2051") - packets == 2
    assert COUNTERS.get("tansuan_hj212_readings_total") - readings == 4
    assert COUNTERS.get("tansuan_hj212_answers_total", cn="9014") - answers == 2
    assert COUNTERS.get("tansuan_hj212_connections_total") - connections == 1
    text = COUNTERS.render()
    assert 'tansuan_hj212_packets_total{cn="2051"}' in text
    assert "# HELP tansuan_hj212_errors_total" in text


@pytest.mark.real_clock(
    "the gateway sets a logger to the real time: the real clock is what is tested"
)
def test_time_calibration_request_gets_a_set_time_command(sink: SqliteSink) -> None:
    """1013 from a logger: 9013 when asked, then 1012 with the site's local time."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    async def scenario() -> None:
        async with running(site_model(1), sink) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(codec.build(cn="1013", cp="", qn="9", pw=PW, mn=mn(0), flag=5))
            answer = codec.decode(await read_answer(reader))
            command = codec.decode(await read_answer(reader))
            writer.close()
        assert (answer.cn, answer.qn) == ("9013", "9")
        assert (command.cn, command.mn, command.wants_ack) == ("1012", mn(0), True)
        sent = dt.datetime.strptime(command.cp.params["SystemTime"], "%Y%m%d%H%M%S")
        local_now = dt.datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
        assert abs((local_now - sent).total_seconds()) < 5

    asyncio.run(scenario())


def test_a_connection_that_never_logs_in_is_closed(sink: SqliteSink) -> None:
    """Sending only rejected packets keeps a socket busy but not logged in."""

    async def scenario() -> None:
        limits = Limits(login_timeout_s=0.4, idle_timeout_s=30, max_errors=10_000)
        async with running(site_model(1), sink, limits) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            wrong = codec.build(cn="2051", cp="DataTime=20240101100100", qn="1", pw="x", mn="Z")
            start = time.monotonic()
            closed = False
            while time.monotonic() - start < 3 and not closed:
                writer.write(wrong)
                try:
                    await writer.drain()
                    closed = await asyncio.wait_for(reader.read(65536), 0.1) == b""
                except TimeoutError:
                    pass
                except ConnectionError:
                    closed = True
            assert closed and 0.4 <= time.monotonic() - start < 2
            writer.close()

    asyncio.run(scenario())


def test_a_logger_that_takes_no_answers_is_cut_off(sink: SqliteSink) -> None:
    """It sends and never reads: the server stops reading it once answers pile up, and
    drops the connection after write_timeout_s; a neighbour keeps being served."""
    import socket

    before = COUNTERS.get("tansuan_hj212_errors_total", reason="write_timeout")
    # codes no point maps: answered at once, so answers pile up as fast as possible
    packet = codec.build(
        cn="2011", cp="DataTime=20240101100000;zz9999-Rtd=1", qn="1", pw=PW, mn=mn(0)
    )

    async def scenario() -> None:
        limits = Limits(write_timeout_s=0.5)
        async with running(site_model(2), sink, limits) as server:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect(("127.0.0.1", server.port))
            reader, writer = await asyncio.open_connection(sock=sock)
            while not server.connections:
                await asyncio.sleep(0.01)
            (conn,) = server.connections
            assert conn.transport is not None
            conn.transport.get_extra_info("socket").setsockopt(
                socket.SOL_SOCKET, socket.SO_SNDBUF, 4096
            )

            async def flood() -> None:
                with contextlib.suppress(ConnectionError):
                    for _ in range(20000):
                        writer.write(packet)
                        await writer.drain()

            flooding = asyncio.create_task(flood())
            async with Hj212Client("127.0.0.1", server.port, mn=mn(1), pw=PW) as good:
                for minute in range(3):
                    await asyncio.sleep(0.3)
                    assert await good.upload("2051", f"2024010110{minute:02d}00", MINUTE)
            deadline = time.monotonic() + 5
            while conn in server.connections and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert conn not in server.connections
            await asyncio.wait_for(flooding, 5)
            writer.close()

    asyncio.run(scenario())
    assert COUNTERS.get("tansuan_hj212_errors_total", reason="write_timeout") - before == 1


def test_a_logger_with_a_24_character_pw_is_served_and_warned_once(
    sink: SqliteSink, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 18 #19: a logger whose PW is the 24-character ``BF470F88957588DE902D1A52``
    (length and CRC right) was refused "PW is malformed" (9011 QnRtn=3); now its hourly
    upload is stored and answered 9014, and the non-standard PW is logged once per
    logger, not per packet."""
    import logging

    from tansuan.site.model import SiteModel

    long_pw = "BF470F88957588DE902D1A52"
    doc = site_model(1).model_dump(by_alias=True, exclude_unset=True)
    doc["organisation"]["companies"][0]["sites"][0]["connections"][0]["password"] = long_pw
    model = SiteModel.model_validate(doc)

    async def scenario() -> None:
        async with running(model, sink) as server:
            async with Hj212Client("127.0.0.1", server.port, mn=mn(0), pw=long_pw) as client:
                for hour in ("10", "11"):
                    answer = await client.upload(
                        "2061", f"20240101{hour}0000", {"a19001": {"Avg": 8.5, "Flag": "N"}}
                    )
                    assert answer is not None and answer.cn == "9014"

    with caplog.at_level(logging.WARNING, logger="tansuan.gateways.hj212.server"):
        asyncio.run(scenario())
    assert [(r[1], r[3]) for r in sink.rows()] == [("s0.o2.h", 8.5), ("s0.o2.h", 8.5)]
    warned = [r.getMessage() for r in caplog.records if "non-standard" in r.getMessage()]
    assert len(warned) == 1 and "PW has 24 characters" in warned[0] and mn(0) in warned[0]
