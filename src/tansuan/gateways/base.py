"""What every gateway shares: the sink it hands readings to, and its counters.

A gateway only decodes. It turns what a device sends into :class:`Reading` values and
hands them to a :data:`Sink` — in production, the one ingest entry — which returns only
after the readings are durably committed (or raises). A gateway acknowledges to the
device (HJ 212 9014 answer, MQTT PUBACK, …) only after the sink has returned.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence

from tansuan.ingest.reading import Reading

#: Hands a batch of readings to ingest; returns after commit, raises on failure.
#: Synchronous: async gateways call it with ``asyncio.to_thread``.
Sink = Callable[[Sequence[Reading]], object]


class Counters:
    """Thread-safe monotonically increasing counters, exported in Prometheus text format.

    Names follow Prometheus conventions (``tansuan_hj212_packets_total``); labels are
    given as a sorted tuple of ``(key, value)`` pairs.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
        self._help: dict[str, str] = {}

    def describe(self, name: str, help_text: str) -> None:
        self._help[name] = help_text

    def inc(self, name: str, amount: float = 1, **labels: str) -> None:
        key = (name, tuple(sorted(labels.items())))
        with self._lock:
            self._values[key] += amount  # type: ignore[assignment]

    def get(self, name: str, **labels: str) -> float:
        with self._lock:
            return float(self._values[(name, tuple(sorted(labels.items())))])

    def snapshot(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """Every counter with its labels, as a plain dict (a consistent copy)."""
        with self._lock:
            return {key: float(value) for key, value in self._values.items()}

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
