"""Filling missing data, by the rule an emission source is configured with.

Every function takes an hourly (or monthly) array with ``NaN`` for missing values and
returns a :class:`Filled` — the completed array and a mask of the substituted slots —
so each result can carry the share of substituted data. Nothing here invents a value
without saying so.

Rules
-----
``default``
    The guideline's default value for the slot (e.g. a month without a lab analysis
    uses the default carbon content for that month only).
``interpolate``
    Linear interpolation across a gap of at most ``max_gap`` slots that has valid
    values on both sides; longer gaps stay missing.
``previous_average``
    The mean of the previous period's valid values.
``cems_conservative``
    HJ 75-2017 substitution for CEMS data (recollection, tagged [M] in
    ``domain-facts.md`` §5.2): a gap of at most 24 hours takes the mean of the valid
    hour before and the valid hour after the gap; a longer gap takes the maximum of the
    preceding ``lookback`` (720) valid hours. The thresholds are parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Filled:
    """A completed series and which of its slots were substituted."""

    values: Array
    substituted: NDArray[np.bool_]
    rule: str

    @property
    def substituted_share(self) -> float:
        """Fraction [0..1] of slots that were substituted."""
        return float(self.substituted.mean()) if self.substituted.size else 0.0

    @property
    def missing(self) -> NDArray[np.bool_]:
        """Slots still missing after the rule was applied."""
        return np.isnan(self.values)


def _runs(missing: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """Half-open index ranges ``[a, b)`` of consecutive True values."""
    if not missing.any():
        return []
    padded = np.concatenate(([False], missing, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def fill_default(values: Array, default: float) -> Filled:
    """Replace every missing slot with ``default``."""
    missing = np.isnan(values)
    out = np.where(missing, default, values)
    return Filled(out, missing, "default")


def fill_interpolate(values: Array, max_gap: int) -> Filled:
    """Linearly interpolate gaps of at most ``max_gap`` slots bounded by valid values."""
    out = values.copy()
    substituted = np.zeros(values.shape, dtype=bool)
    for a, b in _runs(np.isnan(values)):
        if a == 0 or b == len(values) or b - a > max_gap:
            continue
        left, right = values[a - 1], values[b]
        steps = np.arange(1, b - a + 1, dtype=np.float64) / (b - a + 1)
        out[a:b] = left + (right - left) * steps
        substituted[a:b] = True
    return Filled(out, substituted, "interpolate")


def fill_previous_average(values: Array, previous: Array) -> Filled:
    """Replace missing slots with the mean of the previous period's valid values."""
    missing = np.isnan(values)
    valid_previous = previous[~np.isnan(previous)]
    if not missing.any() or valid_previous.size == 0:
        return Filled(values.copy(), np.zeros(values.shape, dtype=bool), "previous_average")
    out = np.where(missing, float(valid_previous.mean()), values)
    return Filled(out, missing, "previous_average")


def fill_cems_conservative(
    values: Array, history: Array | None = None, *, short_gap: int = 24, lookback: int = 720
) -> Filled:
    """HJ 75 CEMS substitution [M]: short gaps → mean of neighbours; long → max of lookback.

    Parameters
    ----------
    values
        Hourly values of the period, ``NaN`` where missing or invalid.
    history
        Hourly values before the period (oldest first), used for the look-back maximum
        and for a gap at the very start of the period.
    short_gap
        Longest gap [h] filled with the mean of the valid hours around it (24).
    lookback
        Number of preceding *valid* hours whose maximum fills a longer gap (720).
    """
    before = history if history is not None else np.empty(0)
    series = np.concatenate((before, values))
    offset = before.size
    out = series.copy()
    substituted = np.zeros(series.shape, dtype=bool)
    for a, b in _runs(np.isnan(series)):
        if b <= offset:
            continue  # a gap wholly in the history is not ours to fill
        left = out[a - 1] if a > 0 else np.nan
        right = series[b] if b < series.size else np.nan
        if b - a <= short_gap and not np.isnan(left) and not np.isnan(right):
            fill = (left + right) / 2.0
        else:
            previous_valid = out[:a][~np.isnan(out[:a]) & ~substituted[:a]]
            if previous_valid.size == 0:
                continue
            fill = float(previous_valid[-lookback:].max())
        out[a:b] = fill
        substituted[a:b] = True
    return Filled(out[offset:], substituted[offset:], "cems_conservative")
