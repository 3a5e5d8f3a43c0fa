"""Free allocation by the national ETS power-sector benchmark method (domain-facts §7.1).

For a generating unit (2021–2022 formula, MEE notice quoted by S12)::

    A = Q_e × B_e × F_l × F_r × F_f  +  Q_h × B_h

Q_e net power supplied (供电量) [MWh], B_e supply benchmark [tCO2/MWh], F_l cooling-type
factor, F_r heat-supply factor, F_f load-factor correction, Q_h heat supplied [GJ], B_h heat
benchmark [tCO2/GJ]. Correction factors (国环规气候〔2020〕3号)::

    F_r = 1 − s × heat ratio              s = 0.22 (coal), 0.6 (gas)
    F_f = 1                               load ≥ 85 %
        = 1 + 0.0014 × (85 − 100F)        80 % ≤ load < 85 %
        = 1.007 + 0.0016 × (80 − 100F)    75 % ≤ load < 80 %
        = 1.015^(16 − 20F)                load < 75 %

F_f applies to conventional coal units without heat supply (pure condensing). Every number
is read from ``ets_power.csv``; the result carries the weakest confidence tag used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from tansuan.errors import InputError
from tansuan.market.reference import Value, lookup, weakest

CATEGORIES = ("coal_gt300", "coal_le300", "coal_unconventional", "gas")


@dataclass(frozen=True)
class Unit:
    """A generating unit for one allocation year.

    Attributes
    ----------
    category
        ``coal_gt300``, ``coal_le300``, ``coal_unconventional`` or ``gas``.
    supply_mwh
        Net power supplied [MWh].
    heat_gj
        Heat supplied [GJ].
    cooling
        ``water`` or ``air``.
    load_factor
        Annual load factor [fraction]; None = not corrected.
    """

    id: str
    category: str
    supply_mwh: float
    heat_gj: float = 0.0
    cooling: Literal["water", "air"] = "water"
    load_factor: float | None = None

    @property
    def fuel(self) -> Literal["coal", "gas"]:
        return "gas" if self.category == "gas" else "coal"


@dataclass(frozen=True)
class Allocation:
    """The allocation of one unit [tCO2] and how it was made."""

    unit: str
    year: int
    power_t: float
    heat_t: float
    factors: dict[str, float]
    rows: tuple[str, ...] = field(repr=False)
    confidence: str = "[V]"

    @property
    def total_t(self) -> float:
        return self.power_t + self.heat_t


def load_factor_correction(load: float, year: int) -> Value:
    """F_f for a conventional coal pure-condensing unit at annual load ``load`` [fraction]."""
    if not 0 < load <= 1:
        raise InputError(f"load factor must be in (0, 1], got {load}", field="load_factor")
    c = {k: lookup("load_factor", k, None) for k in (
        "full_threshold", "band1_slope", "band1_low", "band2_base", "band2_slope", "band2_low",
        "band3_base", "band3_offset", "band3_slope",
    )}  # fmt: skip
    tag = weakest([v.confidence for v in c.values()])
    pct = 100 * load
    if load >= c["full_threshold"].value:
        value = 1.0
    elif load >= c["band1_low"].value:
        value = 1 + c["band1_slope"].value * (100 * c["full_threshold"].value - pct)
    elif load >= c["band2_low"].value:
        value = c["band2_base"].value + c["band2_slope"].value * (100 * c["band1_low"].value - pct)
    else:
        value = c["band3_base"].value ** (c["band3_offset"].value - c["band3_slope"].value * load)
    return Value(value, "ets_power load_factor", tag)


def allocate(unit: Unit, year: int, *, heat_ratio: float = 0.0) -> Allocation:
    """Free allocation of ``unit`` in ``year`` [tCO2].

    Parameters
    ----------
    heat_ratio
        The unit's heat-supply ratio (供热比) [fraction], as reported.

    Raises
    ------
    InputError
        Unknown category, negative quantities, a ratio outside [0, 1].
    UnknownFactor
        No benchmark for that category and year in the table.
    """
    if unit.category not in CATEGORIES:
        raise InputError(
            f"unknown unit category {unit.category!r}; use {', '.join(CATEGORIES)}",
            field="category",
        )
    if unit.supply_mwh < 0 or unit.heat_gj < 0:
        raise InputError("power and heat supplied must not be negative", field="supply_mwh")
    if not 0 <= heat_ratio < 1:
        raise InputError(f"heat ratio must be in [0, 1), got {heat_ratio}", field="heat_ratio")
    used: list[Value] = []
    b_e = lookup("power_benchmark", unit.category, year)
    f_l = lookup("cooling_factor", unit.cooling, None)
    slope = lookup("heat_supply_slope", unit.fuel, None)
    used += [b_e, f_l, slope]
    f_r = 1 - slope.value * heat_ratio
    f_f = 1.0
    if (
        unit.load_factor is not None
        and unit.category in ("coal_gt300", "coal_le300")
        and heat_ratio == 0
    ):
        load = load_factor_correction(unit.load_factor, year)
        f_f = load.value
        used.append(load)
    heat_t = 0.0
    if unit.heat_gj > 0:
        b_h = lookup("heat_benchmark", unit.fuel, year)
        used.append(b_h)
        heat_t = unit.heat_gj * b_h.value
    power_t = unit.supply_mwh * b_e.value * f_l.value * f_r * f_f
    return Allocation(
        unit=unit.id,
        year=year,
        power_t=power_t,
        heat_t=heat_t,
        factors={"B_e": b_e.value, "F_l": f_l.value, "F_r": f_r, "F_f": f_f},
        rows=tuple(v.id for v in used),
        confidence=weakest([v.confidence for v in used]),
    )
