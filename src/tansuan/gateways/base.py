"""What every gateway shares: the sink it hands readings to, its counters, and the
reconnect and hand-over machinery of its protocol clients.

A gateway only decodes. It turns what a device sends into :class:`Reading` values and
hands them to a :data:`Sink` — in production, the one ingest entry — which returns only
after the readings are durably committed (or raises). A gateway acknowledges to the
device (HJ 212 9014 answer, MQTT PUBACK, …) only after the sink has returned.

The protocol clients (Modbus, OPC UA, MQTT) share :class:`Backoff` (wait 0.5 s, 1 s,
2 s, … up to a maximum between attempts), :func:`reconnecting` (the connect, fail, wait,
reconnect loop), :class:`HandOver` (a thread-safe buffer from the protocol library's
callbacks to the sink, taken in batches) and :func:`hand_over` (one sink call for what
is buffered, keeping it after a transient failure).
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from tansuan.errors import InputError
from tansuan.ingest.reading import Reading

#: Hands a batch of readings to ingest; returns after commit, raises on failure.
#: Synchronous: async gateways call it with ``asyncio.to_thread``.
Sink = Callable[[Sequence[Reading]], object]


class Counters:
    """Thread-safe monotonically increasing counters, exported in Prometheus text format.

    Names follow Prometheus conventions (``tansuan_hj212_packets_total``); labels are
    given as a sorted tuple of ``(key, value)`` pairs. Each counter also keeps when it
    last went up (``now``: epoch seconds, the real clock — an event's time), so the
    quality page can show when a gateway last delivered.
    """

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._values: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
        self._last: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        self._help: dict[str, str] = {}
        self._now = now

    def describe(self, name: str, help_text: str) -> None:
        self._help[name] = help_text

    def inc(self, name: str, amount: float = 1, **labels: str) -> None:
        key = (name, tuple(sorted(labels.items())))
        at = self._now() if amount > 0 else None
        with self._lock:
            self._values[key] += amount  # type: ignore[assignment]
            if at is not None:
                self._last[key] = at

    def get(self, name: str, **labels: str) -> float:
        with self._lock:
            return float(self._values[(name, tuple(sorted(labels.items())))])

    def snapshot(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """Every counter with its labels, as a plain dict (a consistent copy)."""
        with self._lock:
            return {key: float(value) for key, value in self._values.items()}

    def last_increased(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """When each counter last went up [epoch s], keyed like :meth:`snapshot`."""
        with self._lock:
            return dict(self._last)

    def render(self) -> str:
        """The counters in Prometheus text exposition format (version 0.0.4)."""
        with self._lock:
            items = sorted(self._values.items())
        lines: list[str] = []
        seen: set[str] = set()
        for (name, labels), value in items:
            if name not in seen:
                seen.add(name)
                if name in self._help:
                    lines.append(f"# HELP {name} {self._help[name]}")
                lines.append(f"# TYPE {name} counter")
            label_text = ",".join(f'{k}="{v}"' for k, v in labels)
            lines.append(f"{name}{{{label_text}}} {value:g}" if labels else f"{name} {value:g}")
        return "\n".join(lines) + "\n"


#: The process-wide counters that /metrics renders.
COUNTERS = Counters()


_malloc_trim: Callable[[int], int] | None | bool = False  # False: not looked up yet


def trim_heap() -> bool:
    """Hand the C heap's free pages back to the operating system (glibc ``malloc_trim``).

    After a burst (a backlog of uploads parsed, queued and committed) the memory is free
    again inside the process but glibc keeps it, so RSS stays at the burst's high-water
    mark and creeps up with fragmentation. A gateway calls this when it has gone quiet.
    Returns False where there is no glibc (then it does nothing).
    """
    global _malloc_trim
    if _malloc_trim is False:
        name = ctypes.util.find_library("c")
        try:
            _malloc_trim = ctypes.CDLL(name).malloc_trim if name else None
        except (OSError, AttributeError):
            _malloc_trim = None
    if not callable(_malloc_trim):
        return False
    _malloc_trim(0)
    return True


# -- reconnecting and handing over, shared by the protocol clients ---------------------

#: The first wait [s] after a failed attempt; it doubles after every further failure.
FIRST_DELAY_S = 0.5

T = TypeVar("T")


class Backoff:
    """Capped doubling delay between attempts: 0.5 s, 1 s, 2 s, … up to ``maximum_s``.

    :attr:`delay` is the wait before the next attempt. :meth:`failed` takes it and
    doubles it for the attempt after (never beyond ``maximum_s``); :meth:`reset` starts
    again at the first delay once a connection (or a delivery) has worked, so a device
    that was away for an hour is retried quickly the next time it goes away. The first
    delay is not capped: with a ``maximum_s`` below it the waits are 0.5 s, then
    ``maximum_s``.
    """

    def __init__(self, maximum_s: float, first_s: float = FIRST_DELAY_S) -> None:
        self.first_s = first_s
        self.maximum_s = maximum_s
        self.delay = first_s

    def reset(self) -> None:
        """An attempt worked: the next failure waits the first delay again."""
        self.delay = self.first_s

    def failed(self) -> float:
        """An attempt failed: the delay to wait now (the next one is doubled, capped)."""
        delay = self.delay
        self.delay = min(delay * 2, self.maximum_s)
        return delay

    async def wait(self, stop: asyncio.Event) -> bool:
        """Wait :meth:`failed`'s delay, or less if ``stop`` is set; whether it is set."""
        try:
            await asyncio.wait_for(stop.wait(), self.failed())
        except TimeoutError:
            pass
        return stop.is_set()

    def wait_blocking(self, stop: threading.Event) -> bool:
        """:meth:`wait` for a thread: blocks it, returns early when ``stop`` is set."""
        return stop.wait(self.failed())


@dataclass(frozen=True, slots=True)
class Link:
    """One connection of a gateway as its logs and counters name it.

    ``gateway`` is the protocol (``modbus``, ``opcua``): counters are
    ``tansuan_<gateway>_<what>`` with the label ``connection=<label>`` (``site/connection``),
    log lines start ``<gateway> <label>:`` and go to ``logger`` (the gateway's module).
    """

    gateway: str
    label: str
    logger: logging.Logger

    def count(self, what: str, amount: float = 1, **labels: str) -> None:
        COUNTERS.inc(f"tansuan_{self.gateway}_{what}", amount, connection=self.label, **labels)

    def __str__(self) -> str:
        return f"{self.gateway} {self.label}"


async def reconnecting(
    link: Link,
    connect_and_run: Callable[[asyncio.Event], Awaitable[None]],
    stop: asyncio.Event,
    *,
    connected: asyncio.Event,
    backoff: Backoff,
    errors: tuple[type[Exception], ...],
) -> None:
    """Run ``connect_and_run(stop)`` until ``stop`` is set, reconnecting after failures.

    ``connect_and_run`` connects, sets ``connected`` once the connection is usable, and
    works until ``stop`` is set (then returns) or the connection fails (then raises one
    of ``errors``; anything else is a bug and propagates). After a failure the link
    counts ``errors_total{kind=connect}`` (never connected) or ``{kind=io}`` (lost),
    logs the delay, and waits it (``backoff``, reset to its first delay after a session
    that connected). Setting ``stop`` ends the wait at once. ``connected`` is cleared
    whenever a session ends.
    """
    while not stop.is_set():
        try:
            await connect_and_run(stop)
        except errors as error:
            was_connected = connected.is_set()
            if was_connected:
                backoff.reset()
            link.count("errors_total", kind="io" if was_connected else "connect")
            link.logger.warning(
                "%s: %s (%s); reconnecting in %.1f s",
                link,
                type(error).__name__,
                error,
                backoff.delay,
            )
        finally:
            connected.clear()
        if stop.is_set():
            break
        await backoff.wait(stop)


class HandOver(Generic[T]):
    """A thread-safe buffer between the producers of items and the one consumer of them.

    Producers (a protocol library's callback thread, a poll, a subscription handler)
    :meth:`put` items; the consumer takes them in order, a batch at a time (:meth:`take`),
    and gives a batch it could not hand on back with :meth:`put_back`, in front of whatever
    arrived meanwhile, so every item is handed on exactly once and in order (with one
    consumer; several consumers would interleave their put-backs). ``max_items`` bounds
    what a put-back keeps: the oldest items beyond it are dropped and counted.
    """

    def __init__(self, max_items: int | None = None) -> None:
        self.max_items = max_items
        self._items: deque[T] = deque()
        self._ready = threading.Condition(threading.Lock())

    def __len__(self) -> int:
        with self._ready:
            return len(self._items)

    def put(self, item: T) -> None:
        with self._ready:
            self._items.append(item)
            self._ready.notify()

    def extend(self, items: Iterable[T]) -> None:
        with self._ready:
            self._items.extend(items)
            self._ready.notify()

    def take(self, limit: int | None = None, timeout: float = 0.0) -> list[T]:
        """The oldest ``limit`` items (all without a limit), removed; waits up to
        ``timeout`` seconds for the first one, else returns an empty list."""
        with self._ready:
            if not self._items and timeout > 0:
                self._ready.wait_for(lambda: bool(self._items), timeout)
            items = self._items
            if limit is None or limit >= len(items):
                batch = list(items)
                items.clear()
            else:
                batch = [items.popleft() for _ in range(limit)]
            return batch

    def put_back(self, batch: Sequence[T]) -> int:
        """Return a taken ``batch`` to the front; how many of the oldest items were
        dropped to keep at most ``max_items``."""
        with self._ready:
            items = self._items
            items.extendleft(reversed(batch))
            dropped = 0 if self.max_items is None else max(0, len(items) - self.max_items)
            for _ in range(dropped):
                items.popleft()
            if items:
                self._ready.notify()
            return dropped

    def snapshot(self) -> list[T]:
        """The items waiting, oldest first (a copy)."""
        with self._ready:
            return list(self._items)


async def hand_over(link: Link, outbox: HandOver[Reading], sink: Sink, *, retry_at: str) -> None:
    """Hand everything in ``outbox`` to ``sink`` in one call (in a worker thread).

    Counts ``readings_total`` when the sink commits. When ingest refuses the batch
    (:class:`~tansuan.errors.InputError`) it is dropped (``errors_total{kind=rejected}``,
    ``dropped_total``): handing it again would be refused again. Any other failure is
    transient (database down): the batch goes back into ``outbox`` for the next call
    (``errors_total{kind=sink}``), the oldest readings beyond its bound dropped;
    ``retry_at`` names that next call in the log line (``poll``, ``flush``).
    """
    batch = outbox.take()
    if not batch:
        return
    try:
        await asyncio.to_thread(sink, batch)
    except InputError as error:
        link.count("errors_total", kind="rejected")
        link.count("dropped_total", len(batch))
        link.logger.error("%s: ingest refused %d readings: %s", link, len(batch), error)
    except Exception as error:
        link.count("errors_total", kind="sink")
        dropped = outbox.put_back(batch)
        if dropped:
            link.count("dropped_total", dropped)
        link.logger.warning(
            "%s: sink failed (%s: %s); %d readings kept for the next %s",
            link,
            type(error).__name__,
            error,
            len(outbox),
            retry_at,
        )
    else:
        link.count("readings_total", len(batch))
