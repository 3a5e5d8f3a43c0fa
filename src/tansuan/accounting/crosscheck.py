"""Cross-check: a source measured by CEMS against the same source calculated from fuel.

For every period both exist, the relative difference ``(calculated − measured) /
measured`` is reported and flagged when its magnitude exceeds the threshold
(``Settings.crosscheck_threshold``, default 5 %). Verifiers look for exactly this.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class CrossCheck:
    period: str
    calculated_co2_g: int
    measured_co2_g: int
    relative_difference: float | None  #: None when the measured value is zero
    flagged: bool


def cross_check(
    calculated: Mapping[str, int], measured: Mapping[str, int], threshold: float
) -> list[CrossCheck]:
    """Compare two sources' CO2 [g] per period; periods present in both only."""
    out: list[CrossCheck] = []
    for period in sorted(set(calculated) & set(measured)):
        calc, meas = calculated[period], measured[period]
        diff = None if meas == 0 else (calc - meas) / meas
        flagged = diff is None and calc != 0 or diff is not None and abs(diff) > threshold
        out.append(CrossCheck(period, calc, meas, diff, flagged))
    return out
