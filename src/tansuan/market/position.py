"""Compliance position: forecast emissions against holdings, with the rules as data.

Surrender obligation for verified emissions E and free allocation A (domain-facts §7.1)::

    gas unit (exemption applies):      O = min(E, A)
    (E − A) / E > shortfall cap c:     O = A + c·E            (20 % cap where it applies)
    otherwise:                         O = E

Holdings: CEA = A + purchased − sold + banked; CCER usable = min(CCER held, cap·O);
shortfall = max(0, O − CEA − CCER usable), valued at a price. With E ~ N(μ, σ) from the
forecast interval, the probability of a shortfall is P(E > E*) where E* is the emission
level at which the shortfall becomes positive (the shortfall is non-decreasing in E, so E*
is found by bisection).
"""

from __future__ import annotations

from dataclasses import dataclass

from tansuan.analytics import stats
from tansuan.errors import InputError, UnknownFactor
from tansuan.market.reference import lookup


@dataclass(frozen=True)
class Rules:
    """Compliance rules of a cycle: CCER cap, shortfall cap (None = none), gas exemption."""

    ccer_cap: float
    shortfall_cap: float | None
    gas_exemption: bool
    source: str

    @classmethod
    def for_year(cls, year: int) -> Rules:
        """The rules of the cycle covering ``year`` from ``ets_power.csv``.

        Raises
        ------
        UnknownFactor
            No rules are shipped for that year (e.g. 2023–24: unverified); pass your own.
        """
        ccer = lookup("compliance_rule", "ccer_cap", year)
        try:
            cap: float | None = lookup("compliance_rule", "shortfall_cap", year).value
        except UnknownFactor:
            cap = None
        try:
            gas = bool(lookup("compliance_rule", "gas_exemption", year).value)
        except UnknownFactor:
            gas = False
        return cls(ccer.value, cap, gas, f"ets_power.csv {ccer.id.rsplit('.', 1)[0]}")


@dataclass(frozen=True)
class Holdings:
    """An entity's allowances for one cycle [t]: free allocation, trades, banked, CCER held."""

    free_allocation: float
    purchased: float = 0.0
    sold: float = 0.0
    banked: float = 0.0
    ccer: float = 0.0

    def __post_init__(self) -> None:
        for name in ("free_allocation", "purchased", "sold", "banked", "ccer"):
            if getattr(self, name) < 0:
                raise InputError(f"{name} must not be negative", field=name)

    @property
    def cea(self) -> float:
        return self.free_allocation + self.purchased - self.sold + self.banked

    def record(self) -> dict[str, float]:
        """The holdings as JSON [t], CEA held included."""
        return {
            "free_allocation_t": self.free_allocation,
            "purchased_t": self.purchased,
            "sold_t": self.sold,
            "banked_t": self.banked,
            "ccer_t": self.ccer,
            "cea_t": self.cea,
        }


@dataclass(frozen=True)
class Position:
    """The compliance position at the expected emissions, and its risk."""

    emissions: float
    emissions_sd: float
    obligation: float
    cea: float
    ccer_usable: float
    shortfall: float
    surplus: float
    price: float
    shortfall_value: float
    break_even_emissions: float | None
    shortfall_probability: float


def obligation(emissions: float, allocation: float, rules: Rules, *, gas: bool = False) -> float:
    """The surrender obligation [t] (see module docstring)."""
    if emissions < 0:
        raise InputError("emissions must not be negative", field="emissions")
    if gas and rules.gas_exemption:
        return min(emissions, allocation)
    if rules.shortfall_cap is not None and emissions > 0:
        if (emissions - allocation) / emissions > rules.shortfall_cap:
            return allocation + rules.shortfall_cap * emissions
    return emissions


def _shortfall(
    emissions: float, holdings: Holdings, rules: Rules, gas: bool
) -> tuple[float, float, float]:
    owed = obligation(emissions, holdings.free_allocation, rules, gas=gas)
    usable = min(holdings.ccer, rules.ccer_cap * owed)
    return owed, usable, owed - holdings.cea - usable


def position(
    emissions: float,
    emissions_sd: float,
    holdings: Holdings,
    rules: Rules,
    *,
    price: float,
    gas: bool = False,
) -> Position:
    """Compliance position for forecast emissions ``emissions`` ± ``emissions_sd`` [t].

    ``price`` [money/t] values the shortfall. ``emissions_sd`` is the forecast's standard
    deviation (e.g. half the 90 % interval / 1.645); zero gives a probability of 0 or 1.
    """
    if emissions_sd < 0 or price < 0:
        raise InputError("standard deviation and price must not be negative", field="emissions_sd")
    owed, usable, gap = _shortfall(emissions, holdings, rules, gas)
    hi = max(emissions + 10 * emissions_sd, 2 * emissions, holdings.cea * 3 + holdings.ccer + 1.0)
    if _shortfall(hi, holdings, rules, gas)[2] <= 0:
        star: float | None = None
    elif _shortfall(0.0, holdings, rules, gas)[2] > 0:
        star = 0.0
    else:
        lo_b, hi_b = 0.0, hi
        for _ in range(200):
            mid = 0.5 * (lo_b + hi_b)
            if _shortfall(mid, holdings, rules, gas)[2] > 0:
                hi_b = mid
            else:
                lo_b = mid
        star = 0.5 * (lo_b + hi_b)
    if star is None:
        probability = 0.0
    elif emissions_sd == 0:
        probability = 1.0 if emissions > star else 0.0
    else:
        probability = 1.0 - stats.norm_cdf((star - emissions) / emissions_sd)
    shortfall = max(gap, 0.0)
    return Position(
        emissions=emissions,
        emissions_sd=emissions_sd,
        obligation=owed,
        cea=holdings.cea,
        ccer_usable=usable,
        shortfall=shortfall,
        surplus=max(-gap, 0.0),
        price=price,
        shortfall_value=shortfall * price,
        break_even_emissions=star,
        shortfall_probability=probability,
    )
