"""Faults on demand, applied to a frame of simulated readings.

Each fault names its kind, its target (a point id, or a connection's points for an
outage) and its window [start, end) in UTC epoch µs:

* ``dropout`` — the point sends nothing in the window;
* ``stuck`` — the point repeats its value at the window's start;
* ``spike`` — one reading (the first in the window) is multiplied by ``magnitude``;
* ``counter_reset`` — a cumulative register restarts at 0 at the window's start and
  keeps counting (the window's end is ignored); a plant run applies it inside the
  meter (:attr:`~tansuan.twin.plant.Plant.resets`) so the new count runs on across days;
* ``clock_skew`` — the point's time stamps in the window are shifted by ``magnitude`` s;
* ``outage`` — a data logger is down: every point of ``targets`` sends nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tansuan.errors import InputError
from tansuan.twin.frame import Frame

KINDS = ("dropout", "stuck", "spike", "counter_reset", "clock_skew", "outage")


@dataclass(frozen=True)
class Fault:
    kind: str
    targets: tuple[str, ...]
    start_us: int
    end_us: int
    magnitude: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(
                f"unknown fault {self.kind!r}; one of {', '.join(KINDS)}", field="fault"
            )
        if self.end_us < self.start_us:
            raise InputError("a fault's end is before its start", field="fault")


def parse(text: str, *, connections: dict[str, tuple[str, ...]] | None = None) -> Fault:
    """``KIND:TARGET@START/MINUTES[/MAGNITUDE]``, START in ISO 8601 with offset.

    e.g. ``stuck:fan-001.power@2026-11-01T08:00+08:00/60`` or
    ``outage:stack-logger@2026-11-01T02:00+08:00/180``.

    An outage's TARGET is a connection id (its points are looked up in ``connections``).
    """
    parts = text.split("@")
    if len(parts) != 2:
        raise InputError(
            f"fault {text!r}: write KIND:TARGET@START/MINUTES[/MAGNITUDE], "
            "e.g. stuck:fan-001.power@2026-11-01T08:00+08:00/60",
            field="fault",
        )
    head, tail = parts
    kind, _, target = head.partition(":")
    when = tail.split("/")
    try:
        start = dt.datetime.fromisoformat(when[0])
        minutes = float(when[1]) if len(when) > 1 else 60.0
        magnitude = float(when[2]) if len(when) > 2 else 0.0
    except ValueError:
        raise InputError(
            f"fault {text!r}: bad start, minutes or magnitude", field="fault"
        ) from None
    if start.tzinfo is None:
        raise InputError(f"fault {text!r}: the start needs a UTC offset", field="fault")
    targets: tuple[str, ...] = (target,)
    if kind == "outage":
        if connections is None or target not in connections:
            raise InputError(f"fault {text!r}: no connection {target!r}", field="fault")
        targets = connections[target]
    start_us = int(start.timestamp() * 1_000_000)
    return Fault(kind, targets, start_us, start_us + int(minutes * 60_000_000), magnitude)


def apply(frame: Frame, faults: Sequence[Fault]) -> Frame:
    """The frame with every fault applied (in order)."""
    for fault in faults:
        frame = _apply(frame, fault)
    return frame


def _apply(frame: Frame, fault: Fault) -> Frame:
    mine = np.isin(frame.point, np.asarray(fault.targets, dtype=object))
    inside = mine & (frame.ts_us >= fault.start_us) & (frame.ts_us < fault.end_us)
    value = frame.value.copy()
    ts = frame.ts_us.copy()
    if fault.kind in ("dropout", "outage"):
        return frame.take(~inside)
    if fault.kind == "stuck":
        for point in fault.targets:
            rows = np.flatnonzero(inside & (frame.point == point))
            if rows.size:
                value[rows] = value[rows[np.argmin(frame.ts_us[rows])]]
    elif fault.kind == "spike":
        for point in fault.targets:
            rows = np.flatnonzero(inside & (frame.point == point))
            if rows.size:
                value[rows[np.argmin(frame.ts_us[rows])]] *= fault.magnitude or 10.0
    elif fault.kind == "counter_reset":
        for point in fault.targets:
            rows = np.flatnonzero(mine & (frame.point == point))
            rows = rows[np.argsort(frame.ts_us[rows])]
            after = rows[frame.ts_us[rows] >= fault.start_us]
            before = rows[frame.ts_us[rows] < fault.start_us]
            if after.size:
                base = value[before[-1]] if before.size else value[after[0]]
                value[after] = np.maximum(value[after] - base, 0.0)
    elif fault.kind == "clock_skew":
        ts[inside] += int(fault.magnitude * 1_000_000)
    return Frame(frame.point, ts, value, frame.quality)
