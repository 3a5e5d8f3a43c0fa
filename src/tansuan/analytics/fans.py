"""Affinity (fan) laws: a plausibility check for fan and pump savings claims.

For one fan or pump on the same system curve (energy-analytics.md §5.1)::

    Q2/Q1 = N2/N1,   P2/P1 = (N2/N1)²,   W2/W1 = (N2/N1)³

The cube law holds for friction-dominated systems without static pressure or lift; with a
static component, power falls more slowly, so ``max_speed_saving`` is an upper bound on what
a speed reduction can save (before drive losses). A scheduling saving (fewer run-hours) is
linear in hours instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from tansuan.errors import InputError


def power_ratio(speed_ratio: float) -> float:
    """Shaft-power ratio W2/W1 for a speed ratio N2/N1 (cube law, no static head)."""
    if not 0 < speed_ratio <= 1.5:
        raise InputError(f"speed ratio must be in (0, 1.5], got {speed_ratio}", field="speed_ratio")
    return speed_ratio**3


def speed_for_saving(saving: float) -> float:
    """Speed ratio N2/N1 that gives a shaft-power saving ``saving`` [fraction] by the cube law."""
    if not 0 <= saving < 1:
        raise InputError(f"saving must be in [0, 1), got {saving}", field="saving")
    return float((1 - saving) ** (1 / 3))


@dataclass(frozen=True)
class Plausibility:
    """A measured saving against what a speed reduction can deliver."""

    measured: float
    max_from_speed: float
    plausible: bool
    note: str


def check_speed_saving(
    measured: float, speed_ratio: float, *, margin: float = 0.02
) -> Plausibility:
    """Is a measured saving [fraction] possible from a speed cut to ``speed_ratio``?

    The cube law is the best case (no static head, no drive losses); a measured saving above
    ``1 − r³ + margin`` needs another explanation (fewer run-hours, a changed load, metering).
    """
    best = 1 - power_ratio(speed_ratio)
    ok = measured <= best + margin
    note = (
        f"≤ cube-law bound {best:.1%} at {speed_ratio:.0%} speed"
        if ok
        else f"above the cube-law bound {best:.1%} at {speed_ratio:.0%} speed: check hours, load"
    )
    return Plausibility(measured, best, ok, note)
