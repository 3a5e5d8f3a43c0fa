"""The machinery the protocol clients share: back-off, the reconnect loop, the hand-over."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Sequence

import pytest

from tansuan.errors import InputError, StoreError
from tansuan.gateways.base import COUNTERS, Backoff, HandOver, Link, hand_over, reconnecting
from tansuan.ingest.reading import Reading

LOGGER = logging.getLogger("tests.gateways.base")


def fresh_link() -> Link:
    """A link with counters of its own (a new connection label)."""
    return Link("testgw", f"site/{uuid.uuid4().hex[:8]}", LOGGER)


def counter(link: Link, what: str, **labels: str) -> float:
    return COUNTERS.get(f"tansuan_testgw_{what}", connection=link.label, **labels)


def reading(i: int) -> Reading:
    return Reading("site", "p", dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=i), i)


# -- Backoff ---------------------------------------------------------------------------


def test_backoff_doubles_from_half_a_second_up_to_the_maximum() -> None:
    backoff = Backoff(8.0)
    assert [backoff.failed() for _ in range(7)] == [0.5, 1, 2, 4, 8, 8, 8]


def test_backoff_starts_again_after_a_success() -> None:
    backoff = Backoff(8.0)
    for _ in range(4):
        backoff.failed()
    backoff.reset()
    assert [backoff.failed() for _ in range(3)] == [0.5, 1, 2]


def test_backoff_below_the_first_delay_waits_it_once_then_the_maximum() -> None:
    backoff = Backoff(0.2)
    assert [backoff.failed() for _ in range(3)] == [0.5, 0.2, 0.2]


def test_backoff_wait_ends_when_stop_is_set() -> None:
    async def main() -> tuple[bool, float]:
        stop = asyncio.Event()
        backoff = Backoff(60.0, first_s=30.0)
        asyncio.get_running_loop().call_later(0.05, stop.set)
        started = time.monotonic()
        stopped = await backoff.wait(stop)
        return stopped, time.monotonic() - started

    stopped, took = asyncio.run(main())
    assert stopped and took < 5


def test_backoff_wait_blocking_ends_when_stop_is_set() -> None:
    stop = threading.Event()
    threading.Timer(0.05, stop.set).start()
    started = time.monotonic()
    assert Backoff(60.0, first_s=30.0).wait_blocking(stop)
    assert time.monotonic() - started < 5


def test_backoff_wait_times_out_and_doubles() -> None:
    stop = threading.Event()
    backoff = Backoff(1.0, first_s=0.01)
    assert not backoff.wait_blocking(stop)
    assert backoff.delay == 0.02


# -- reconnecting ----------------------------------------------------------------------


def test_reconnecting_backs_off_counts_and_resets_after_a_connection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Four failed connects wait 0.01, 0.02, 0.04, 0.04 s; a session that connected and
    then failed is an I/O error and starts the back-off again; stop ends it all."""
    link = fresh_link()
    attempts: list[str] = []
    script = ["fail"] * 4 + ["connect-then-fail", "fail", "connect-until-stop"]

    async def main() -> None:
        stop = asyncio.Event()
        connected = asyncio.Event()

        async def connect_and_run(stop_: asyncio.Event) -> None:
            assert stop_ is stop
            step = script[len(attempts)]
            attempts.append(step)
            if step == "fail":
                raise ConnectionRefusedError("nobody there")
            connected.set()
            if step == "connect-then-fail":
                raise TimeoutError("no answer")
            stop.set()

        await reconnecting(
            link,
            connect_and_run,
            stop,
            connected=connected,
            backoff=Backoff(0.04, first_s=0.01),
            errors=(OSError, TimeoutError),
        )
        assert not connected.is_set()

    with caplog.at_level(logging.WARNING, logger=LOGGER.name):
        asyncio.run(main())
    assert attempts == script
    assert counter(link, "errors_total", kind="connect") == 5
    assert counter(link, "errors_total", kind="io") == 1
    messages = [r.getMessage() for r in caplog.records if r.name == LOGGER.name]
    assert len(messages) == 6
    assert messages[0] == (
        f"testgw {link.label}: ConnectionRefusedError (nobody there); reconnecting in 0.0 s"
    )


def test_reconnecting_waits_the_backoff_sequence() -> None:
    """The waits between attempts follow the back-off and restart after a connection."""
    link = fresh_link()
    delays: list[float] = []
    script = ["fail", "fail", "fail", "connect-then-fail", "fail", "stop"]

    class Recording(Backoff):
        async def wait(self, stop: asyncio.Event) -> bool:
            delays.append(self.delay)
            return await super().wait(stop)

    async def main() -> None:
        stop = asyncio.Event()
        connected = asyncio.Event()
        done = 0

        async def connect_and_run(_: asyncio.Event) -> None:
            nonlocal done
            step = script[done]
            done += 1
            if step == "stop":
                stop.set()
                return
            if step == "connect-then-fail":
                connected.set()
            raise OSError(step)

        await reconnecting(
            link,
            connect_and_run,
            stop,
            connected=connected,
            backoff=Recording(0.03, first_s=0.01),
            errors=(OSError,),
        )

    asyncio.run(main())
    assert delays == [0.01, 0.02, 0.03, 0.01, 0.02]


def test_reconnecting_stops_promptly_during_a_long_wait() -> None:
    link = fresh_link()

    async def main() -> float:
        stop = asyncio.Event()

        async def refuse(_: asyncio.Event) -> None:
            raise ConnectionRefusedError("down")

        task = asyncio.create_task(
            reconnecting(
                link,
                refuse,
                stop,
                connected=asyncio.Event(),
                backoff=Backoff(60.0, first_s=30.0),
                errors=(OSError,),
            )
        )
        await asyncio.sleep(0.05)
        started = time.monotonic()
        stop.set()
        await asyncio.wait_for(task, 5)
        return time.monotonic() - started

    assert asyncio.run(main()) < 1
    assert counter(link, "errors_total", kind="connect") == 1


def test_reconnecting_lets_other_exceptions_through_and_clears_connected() -> None:
    link = fresh_link()
    connected = asyncio.Event()

    async def main() -> None:
        async def broken(_: asyncio.Event) -> None:
            connected.set()
            raise ValueError("a bug, not a lost device")

        await reconnecting(
            link,
            broken,
            asyncio.Event(),
            connected=connected,
            backoff=Backoff(1.0),
            errors=(OSError,),
        )

    with pytest.raises(ValueError, match="a bug"):
        asyncio.run(main())
    assert not connected.is_set()
    assert counter(link, "errors_total", kind="io") == 0


# -- HandOver --------------------------------------------------------------------------


def test_handover_hands_everything_over_once_and_in_order_under_concurrent_producers() -> None:
    """Four producer threads, one consumer taking batches and putting every third back
    (a failed sink call): each producer's items arrive exactly once, in its order."""
    outbox: HandOver[tuple[int, int]] = HandOver()
    producers, per_producer = 4, 5_000
    received: list[tuple[int, int]] = []
    finished = threading.Event()

    def produce(pid: int) -> None:
        for i in range(0, per_producer, 10):
            if i % 20:
                outbox.extend((pid, j) for j in range(i, i + 10))
            else:
                for j in range(i, i + 10):
                    outbox.put((pid, j))

    def consume() -> None:
        takes = 0
        while not (finished.is_set() and not len(outbox)):
            batch = outbox.take(97, timeout=0.01)
            if not batch:
                continue
            takes += 1
            if takes % 3 == 0:
                assert outbox.put_back(batch) == 0
                continue
            received.extend(batch)

    threads = [threading.Thread(target=produce, args=(pid,)) for pid in range(producers)]
    consumer = threading.Thread(target=consume)
    consumer.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    finished.set()
    consumer.join(30)
    assert not consumer.is_alive()
    assert len(received) == producers * per_producer
    for pid in range(producers):
        assert [i for p, i in received if p == pid] == list(range(per_producer))


def test_handover_take_waits_for_the_first_item() -> None:
    outbox: HandOver[int] = HandOver()
    started = time.monotonic()
    assert outbox.take(timeout=0.05) == []
    assert time.monotonic() - started >= 0.04
    threading.Timer(0.05, outbox.put, args=(7,)).start()
    assert outbox.take(timeout=5) == [7]


def test_handover_take_limit_and_snapshot() -> None:
    outbox: HandOver[int] = HandOver()
    outbox.extend(range(5))
    assert outbox.take(2) == [0, 1]
    assert outbox.snapshot() == [2, 3, 4] and len(outbox) == 3
    assert outbox.take() == [2, 3, 4]
    assert outbox.take() == []


def test_handover_put_back_goes_first_and_drops_the_oldest_beyond_the_bound() -> None:
    outbox: HandOver[int] = HandOver(max_items=5)
    outbox.extend([0, 1, 2])
    batch = outbox.take()
    outbox.extend([3, 4, 5, 6])  # arrived while the batch was being handed on
    assert outbox.put_back(batch) == 2
    assert outbox.snapshot() == [2, 3, 4, 5, 6]


# -- hand_over -------------------------------------------------------------------------


class FlakySink:
    def __init__(self) -> None:
        self.calls: list[list[Reading]] = []
        self.fail: list[Exception] = []

    def __call__(self, readings: Sequence[Reading]) -> None:
        self.calls.append(list(readings))
        if self.fail:
            raise self.fail.pop(0)


def test_hand_over_commits_keeps_after_a_transient_failure_and_drops_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    link = fresh_link()
    sink = FlakySink()
    outbox: HandOver[Reading] = HandOver(max_items=3)

    async def main() -> None:
        await hand_over(link, outbox, sink, retry_at="poll")  # nothing: no sink call
        assert sink.calls == []

        outbox.extend([reading(0), reading(1)])
        sink.fail = [StoreError("database down")]
        await hand_over(link, outbox, sink, retry_at="poll")
        assert outbox.snapshot() == [reading(0), reading(1)]
        assert counter(link, "errors_total", kind="sink") == 1

        outbox.extend([reading(2), reading(3)])
        sink.fail = [StoreError("still down")]
        await hand_over(link, outbox, sink, retry_at="poll")
        assert outbox.snapshot() == [reading(1), reading(2), reading(3)]  # bound 3
        assert counter(link, "dropped_total") == 1

        await hand_over(link, outbox, sink, retry_at="poll")
        assert sink.calls[-1] == [reading(1), reading(2), reading(3)]
        assert len(outbox) == 0 and counter(link, "readings_total") == 3

        outbox.put(reading(4))
        sink.fail = [InputError("unknown point")]
        await hand_over(link, outbox, sink, retry_at="poll")
        assert len(outbox) == 0
        assert counter(link, "errors_total", kind="rejected") == 1
        assert counter(link, "dropped_total") == 2

    with caplog.at_level(logging.WARNING, logger=LOGGER.name):
        asyncio.run(main())
    messages = [r.getMessage() for r in caplog.records if r.name == LOGGER.name]
    assert messages == [
        f"testgw {link.label}: sink failed (StoreError: database down); "
        "2 readings kept for the next poll",
        f"testgw {link.label}: sink failed (StoreError: still down); "
        "3 readings kept for the next poll",
        f"testgw {link.label}: ingest refused 1 readings: unknown point",
    ]
