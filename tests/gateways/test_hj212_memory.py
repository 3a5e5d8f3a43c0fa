"""What an HJ 212 client sends cannot grow the gateway's memory without bound.

Counter labels come from a closed set, split-message parts held per connection are
capped, and the queue of uploads waiting for commit is capped (an upload beyond it is
not answered, so the logger resends it).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from tansuan.gateways.base import COUNTERS
from tansuan.gateways.hj212 import codec
from tansuan.gateways.hj212.client import Hj212Client
from tansuan.gateways.hj212.server import MAX_PENDING_PARTS, Limits
from tansuan.ingest.reading import Reading

from .hj212_fixtures import PW, SqliteSink, mn, read_answer, running, site_model

MINUTE = {"a05001": {"Avg": 82.5, "Flag": "N"}}


@pytest.fixture
def sink(tmp_path: Path) -> SqliteSink:
    return SqliteSink(tmp_path / "readings.db")


def label_sets(name: str) -> int:
    return sum(1 for key in COUNTERS.snapshot() if key[0] == name)


def test_ten_thousand_bogus_cns_do_not_make_ten_thousand_label_sets(sink: SqliteSink) -> None:
    before_sets = label_sets("tansuan_hj212_packets_total")
    before_other = COUNTERS.get("tansuan_hj212_packets_total", cn="other")

    async def scenario() -> None:
        async with running(site_model(1), sink, Limits(max_errors=100_000)) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            packets = [
                codec.build(cn=f"{cn:04d}", cp="", qn=str(cn), pw=PW, mn=mn(0))
                for cn in range(10_000)
            ]
            for k in range(0, len(packets), 500):
                writer.write(b"".join(packets[k : k + 500]))
            for _ in range(10_000):  # every packet answered (9011, 9013, …) or not asked
                answer = codec.decode(await read_answer(reader))
                if answer.qn == "9999":
                    break
            writer.close()
            await writer.wait_closed()

    asyncio.run(scenario())
    assert label_sets("tansuan_hj212_packets_total") - before_sets <= 20  # known CNs + other
    assert COUNTERS.get("tansuan_hj212_packets_total", cn="other") - before_other >= 9_900


def test_parts_of_split_messages_held_per_connection_are_capped(sink: SqliteSink) -> None:
    async def scenario() -> int:
        async with running(site_model(1), sink) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            flag = codec.FLAG_2017 | 2  # split, no answer asked
            cp = codec.format_cp("20240101100100", MINUTE)
            writer.write(
                b"".join(
                    codec.build(
                        cn="2051", cp=cp, qn="1", pw=PW, mn=mn(0), flag=flag, pnum=9999, pno=n
                    )
                    for n in range(1, 2001)
                )
                + codec.build(cn="2051", cp=cp, qn="2", pw=PW, mn=mn(0))  # answered: all read
            )
            assert codec.decode(await read_answer(reader)).qn == "2"
            (connection,) = server.connections
            held = sum(len(p.parts) for p in connection.pending.values())
            writer.close()
            await writer.wait_closed()
            return held

    assert asyncio.run(scenario()) <= MAX_PENDING_PARTS


class GatedSink:
    """The real SQLite sink behind a gate the test opens (a store that is slow)."""

    def __init__(self, inner: SqliteSink) -> None:
        self.inner = inner
        self.gate = threading.Event()

    def __call__(self, readings: Sequence[Reading]) -> None:
        self.gate.wait(10)
        self.inner(readings)


def test_uploads_beyond_the_commit_queue_are_not_taken_nor_answered(sink: SqliteSink) -> None:
    gated = GatedSink(sink)
    before = COUNTERS.get("tansuan_hj212_errors_total", reason="overloaded")

    async def scenario() -> list[str]:
        async with running(site_model(1), gated, Limits(max_queued_readings=3)) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            client = Hj212Client("127.0.0.1", server.port, mn=mn(0), pw=PW)
            # The first is taken by the committer (its sink call waits at the gate); the
            # next three fill the queue; the last two find it full.
            writer.write(client.upload_packet("2051", "20240101100000", MINUTE, qn="1000"))
            await asyncio.sleep(0.2)
            writer.write(
                b"".join(
                    client.upload_packet("2051", f"2024010110{m:02d}00", MINUTE, qn=f"100{m}")
                    for m in range(1, 6)
                )
            )
            await asyncio.sleep(0.2)
            assert server.committer.queued == 3
            gated.gate.set()
            answered = [codec.decode(await read_answer(reader)).qn or "" for _ in range(4)]
            with pytest.raises(TimeoutError):
                await read_answer(reader, timeout=0.5)
            writer.close()
            await writer.wait_closed()
            return answered

    assert asyncio.run(scenario()) == ["1000", "1001", "1002", "1003"]
    assert COUNTERS.get("tansuan_hj212_errors_total", reason="overloaded") - before == 2
    assert len(sink.rows()) == 4


def test_the_committer_keeps_nothing_of_a_batch_once_it_is_committed() -> None:
    """After a commit the batch (up to a full batch of readings, with the packets and
    connections its callbacks hold) is released, not kept by the commit loop until the
    next upload arrives: the soak found the last 20,000 readings alive after 30 s idle."""
    import datetime as dt
    import gc
    import weakref

    from tansuan.gateways.hj212.server import Committer

    class Tracked(list[Reading]):  # a list that can be watched by a weak reference
        pass

    committed: list[int] = []

    async def scenario() -> weakref.ref[Tracked]:
        committer = Committer(lambda readings: committed.append(len(readings)), 100)
        committer.start()
        when = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        readings = Tracked([Reading("s", "p", when, 1.0)])
        done = asyncio.get_running_loop().create_future()
        committer.submit(readings, lambda error: done.set_result(error))
        assert await done is None
        watched = weakref.ref(readings)
        del readings
        await asyncio.sleep(0.05)  # the commit loop is back waiting for the next upload
        gc.collect()
        alive = watched()
        await committer.stop()
        assert alive is None, "the committed batch is still referenced"
        return watched

    asyncio.run(scenario())
    assert committed == [1]


def test_trim_heap_hands_free_memory_back_on_glibc() -> None:
    """On Linux with glibc (the platform the gateway ships for) the trim is available."""
    import platform

    from tansuan.gateways.base import trim_heap

    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert trim_heap() is True
    else:
        assert trim_heap() in (True, False)
