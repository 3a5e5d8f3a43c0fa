"""Roll results up the hierarchy and across dimensions — exactly.

Floating-point addition is not associative, so a site total summed from device
totals could differ in the last digit from one summed from sources. Results are
therefore carried as **integer grams** (:attr:`Line.co2e_g`), rounded once, at the
source-period level; every total above is an integer sum and equals the sum of its
parts exactly, whatever the grouping.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from tansuan.domain import units

#: grams per tonne, from the unit registry.
_G_PER_T = units.factor("t", "g")


def tonnes_to_grams(tonnes: float) -> int:
    """Round a mass in tonnes to whole grams (half away from zero)."""
    grams = tonnes * _G_PER_T
    return int(grams + 0.5) if grams >= 0 else -int(-grams + 0.5)


def grams_to_tonnes(grams: int) -> float:
    return grams / _G_PER_T


@dataclass(frozen=True)
class Line:
    """One source × period × gas result, placed in the hierarchy.

    ``path`` runs from the top: ``(group, company, site, area, …, device)``.
    """

    source: str
    period: str
    gas: str
    scope: str  #: a :class:`~tansuan.domain.scope.Scope` value: "1", "2-location", …
    source_type: str  #: the method: combustion, electricity, process, …
    carrier: str  #: fuel or energy carrier: raw_coal, electricity, heat, limestone, …
    path: tuple[str, ...]
    mass_g: int  #: mass of the gas itself [g]
    co2e_g: int  #: CO2-equivalent [g]


Dimension = str  # "node", "scope", "gas", "source_type", "carrier", "source", "period"


def rollup(lines: Iterable[Line], by: str) -> dict[str, int]:
    """Sum ``co2e_g`` by one dimension.

    ``by="node"`` gives a total for every node of the hierarchy (each line counts in
    every ancestor of its device), keyed ``"group/company/site/…"``.
    """
    totals: dict[str, int] = defaultdict(int)
    for line in lines:
        if by == "node":
            for depth in range(1, len(line.path) + 1):
                totals["/".join(line.path[:depth])] += line.co2e_g
        else:
            totals[str(getattr(line, by))] += line.co2e_g
    return dict(totals)


def within(lines: Iterable[Line], node: tuple[str, ...]) -> list[Line]:
    """The lines whose device lies in the subtree under ``node``."""
    return [line for line in lines if line.path[: len(node)] == node]
