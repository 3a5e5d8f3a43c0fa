"""Coverage and a data-quality grade for each result.

The grade summarises how much of a result rests on substituted data. Thresholds are
tansuan's own convention (no guideline prescribes letter grades); they are parameters
of :func:`grade` and documented in ``docs/methods.md``:

====  ==========================================================
A     no substituted data and coverage ≥ 99 %
B     substituted share ≤ 5 %
C     substituted share ≤ 20 %
D     more, or any slot still missing after substitution
====  ==========================================================
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Quality:
    """How complete a result's inputs were."""

    coverage: float  #: received / expected readings [0..1]
    substituted_share: float  #: share of slots filled by a substitution rule [0..1]
    missing_share: float  #: share of slots still missing after substitution [0..1]
    grade: str


def grade(
    coverage: float,
    substituted_share: float,
    missing_share: float = 0.0,
    *,
    b_max: float = 0.05,
    c_max: float = 0.20,
) -> Quality:
    """Grade a result from its coverage and its share of substituted data."""
    if missing_share > 0:
        letter = "D"
    elif substituted_share == 0 and coverage >= 0.99:
        letter = "A"
    elif substituted_share <= b_max:
        letter = "B"
    elif substituted_share <= c_max:
        letter = "C"
    else:
        letter = "D"
    return Quality(coverage, substituted_share, missing_share, letter)


def combine(parts: list[tuple[float, Quality]]) -> Quality:
    """The quality of a sum, weighting each part by its weight (e.g. its slot count)."""
    total = sum(weight for weight, _ in parts)
    if total <= 0:
        return grade(1.0, 0.0)

    def mean(attribute: str) -> float:
        return float(sum(w * getattr(q, attribute) for w, q in parts)) / total

    return grade(mean("coverage"), mean("substituted_share"), mean("missing_share"))
