"""Cross-check: a source measured by CEMS against the same source calculated from fuel.

For every period both exist, the relative difference ``(calculated − measured) /
measured`` is reported and flagged when its magnitude exceeds the threshold
(``Settings.crosscheck_threshold``, default 5 %). Verifiers look for exactly this.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class CrossCheck:
    period: str
    calculated_co2_g: int | None  #: None when that side's month is failed or missing
    measured_co2_g: int | None  #: None when that side's month is failed or missing
    relative_difference: float | None  #: None when the measured value is zero or unknown
    flagged: bool
    #: ``compared``, or ``missing`` when either side is failed/missing: never a pass.
    state: str = "compared"


def cross_check(
    calculated: Mapping[str, int],
    measured: Mapping[str, int],
    threshold: float,
    unresolved: Collection[str] = (),
) -> list[CrossCheck]:
    """Compare two sources' CO2 [g] per period: periods present in both, and the periods in
    ``unresolved`` (either side failed or missing), which are shown as ``missing`` — two
    unknown values are not a match."""
    out: list[CrossCheck] = []
    for period in sorted((set(calculated) & set(measured)) | set(unresolved)):
        if period in unresolved:
            calc_or_none, meas_or_none = calculated.get(period), measured.get(period)
            out.append(CrossCheck(period, calc_or_none, meas_or_none, None, False, "missing"))
            continue
        calc, meas = calculated[period], measured[period]
        diff = None if meas == 0 else (calc - meas) / meas
        flagged = diff is None and calc != 0 or diff is not None and abs(diff) > threshold
        out.append(CrossCheck(period, calc, meas, diff, flagged))
    return out
