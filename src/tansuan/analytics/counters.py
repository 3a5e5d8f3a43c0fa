"""Which of a device's points count its energy and its output.

A counter is a point of kind ``total`` or ``total_increasing`` (an ``instantaneous``
reading is a rate, not an amount). Findings, savings and the EnPIs all pick a device's
counters here, so that they agree on what a device consumed and produced.
"""

from __future__ import annotations

from typing import Any


def energy_counters(device: Any) -> list[Any]:
    """The device's energy points that count (``total``/``total_increasing``)."""
    return [p for p in device.points if p.quantity == "energy" and p.kind != "instantaneous"]


def output_counters(device: Any) -> list[Any]:
    """The device's production/output points that count (``total``/``total_increasing``)."""
    return [p for p in device.points
            if p.quantity in ("production", "output") and p.kind != "instantaneous"]  # fmt: skip
