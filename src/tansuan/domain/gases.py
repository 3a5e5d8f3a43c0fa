"""The Kyoto greenhouse gases, GWP-100 sets and CO2e conversion.

The seven Kyoto gases are CO2, CH4, N2O, HFCs, PFCs, SF6 and NF3; HFCs and PFCs
are families of individual species (HFC-134a, CF4, …). GWP-100 values for the
sets SAR, AR4, AR5 and AR6 come from the shipped table ``data/gwp.csv`` (source:
openclimatedata/globalwarmingpotentials, IPCC AR6 Table 7.SM.7; AR6 also splits
methane into ``CH4_fossil`` 29.8 and ``CH4_non_fossil`` 27.0, Table 7.15).

One inventory never mixes GWP sets: :class:`Inventory` raises
:class:`~tansuan.errors.GwpSetMismatch` when a result under another set is added.

>>> gwp_set("AR5").gwp("SF6").value
23500.0
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from types import MappingProxyType

from tansuan.domain import tables
from tansuan.domain.result import EmissionResult, Origin, Parameter
from tansuan.errors import GwpSetMismatch, ReferenceDataError, UnknownFactor

KYOTO_GROUPS = ("CO2", "CH4", "N2O", "HFCs", "PFCs", "SF6", "NF3")
GWP_SETS = ("SAR", "AR4", "AR5", "AR6")

# Other names people write for the same species (ASHRAE / PFC numbering).
_ALIASES = {
    "PFC14": "CF4",
    "PFC116": "C2F6",
    "PFC218": "C3F8",
    "PFC318": "c-C4F8",
    "CH4FOSSIL": "CH4_fossil",
    "CH4NONFOSSIL": "CH4_non_fossil",
}


def _squash(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name).upper()


@dataclass(frozen=True)
class Gas:
    """One greenhouse-gas species and the Kyoto group it belongs to."""

    name: str
    kyoto_group: str


@lru_cache(maxsize=1)
def _species() -> Mapping[str, Gas]:
    out: dict[str, Gas] = {}
    for row in tables.rows("gwp"):
        if row["kyoto_group"] not in KYOTO_GROUPS:
            raise ReferenceDataError(
                f"gwp.csv: {row['gas']} has unknown group {row['kyoto_group']}"
            )
        out[row["gas"]] = Gas(row["gas"], row["kyoto_group"])
    return MappingProxyType(out)


def species() -> tuple[Gas, ...]:
    """Every species in the GWP table."""
    return tuple(_species().values())


def canonical_gas(name: str, *, field: str | None = None) -> str:
    """The table's spelling of a gas name (``hfc134a`` → ``HFC-134a``, ``PFC-14`` → ``CF4``).

    Raises :class:`UnknownFactor` for a name that is not a known species.
    """
    known = _species()
    if name in known:
        return name
    squashed = _squash(name)
    if squashed in _ALIASES:
        return _ALIASES[squashed]
    for candidate in known:
        if _squash(candidate) == squashed:
            return candidate
    raise UnknownFactor(
        f"unknown gas {name!r}; known: {', '.join(sorted(known))}",
        field=field,
    )


def kyoto_group(gas: str) -> str:
    """The Kyoto group (CO2, CH4, N2O, HFCs, PFCs, SF6, NF3) of a species."""
    return _species()[canonical_gas(gas)].kyoto_group


@dataclass(frozen=True)
class GwpSet:
    """The GWP-100 values of one IPCC assessment report, one :class:`Parameter` per gas."""

    name: str
    values: Mapping[str, Parameter]

    def gwp(self, gas: str, *, field: str | None = None) -> Parameter:
        """The GWP-100 of ``gas`` [tCO2e/t]; :class:`UnknownFactor` if the set lacks it."""
        canonical = canonical_gas(gas, field=field)
        try:
            return self.values[canonical]
        except KeyError:
            raise UnknownFactor(
                f"GWP set {self.name} has no value for {canonical} (nothing is substituted; "
                f"use a gas this set defines or another set)",
                field=field,
            ) from None

    def co2e(self, gases_t: Mapping[str, float]) -> tuple[float, tuple[Parameter, ...]]:
        """CO2e [t] of tonnes per gas, and the GWP parameters used.

        ``CO2e = Σ_g m_g × GWP_g`` (GHG Protocol Corporate Standard, ch. 4; IPCC AR GWP-100).
        """
        total = 0.0
        used: list[Parameter] = []
        for gas, tonnes in gases_t.items():
            parameter = self.gwp(gas)
            total += tonnes * parameter.value
            used.append(parameter)
        return total, tuple(used)


@cache
def gwp_set(name: str) -> GwpSet:
    """The shipped GWP set ``name`` (SAR, AR4, AR5 or AR6; case-insensitive)."""
    wanted = name.strip().upper()
    if wanted not in GWP_SETS:
        raise UnknownFactor(f"unknown GWP set {name!r}; choose one of {', '.join(GWP_SETS)}")
    values: dict[str, Parameter] = {}
    for row in tables.rows("gwp"):
        if row["gwp_set"] != wanted:
            continue
        values[row["gas"]] = Parameter(
            name=f"gwp_{row['gas']}",
            value=tables.parse_number(row["value"], where=f"gwp.csv {row['gas']} {wanted}"),
            unit="tCO2e/t",
            origin=Origin.DEFAULT,
            source=f"{row['source_document']}, {row['source_clause']} ({row['source_edition']})",
            factor_id=f"gwp.{wanted}.{row['gas']}",
            confidence=row["confidence"],
        )
    return GwpSet(name=wanted, values=MappingProxyType(values))


class Inventory:
    """Emission results under one GWP set; totals equal the sum of the parts.

    >>> inventory = Inventory("AR5")
    >>> inventory.gwp_set
    'AR5'
    """

    def __init__(self, gwp_set_name: str, results: Iterable[EmissionResult] = ()) -> None:
        self.gwp_set = gwp_set(gwp_set_name).name
        self._results: list[EmissionResult] = []
        for result in results:
            self.add(result)

    def add(self, result: EmissionResult, *, field: str | None = None) -> None:
        """Add a result; :class:`GwpSetMismatch` if it was computed under another set."""
        if result.gwp_set != self.gwp_set:
            raise GwpSetMismatch(
                f"result uses GWP set {result.gwp_set} but the inventory uses {self.gwp_set}; "
                "one inventory never mixes sets",
                field=field,
            )
        self._results.append(result)

    @property
    def results(self) -> tuple[EmissionResult, ...]:
        return tuple(self._results)

    @property
    def total_co2e_t(self) -> float:
        """Σ of the results' CO2e [tCO2e]."""
        return sum((r.co2e_t for r in self._results), 0.0)

    def gases_t(self) -> dict[str, float]:
        """Tonnes per gas summed over the results [t]."""
        out: dict[str, float] = {}
        for result in self._results:
            for gas, tonnes in result.gases_t.items():
                out[gas] = out.get(gas, 0.0) + tonnes
        return out

    def by_group_t(self) -> dict[str, float]:
        """Tonnes per Kyoto group (HFC species summed into ``HFCs``, …) [t]."""
        out: dict[str, float] = {}
        for gas, tonnes in self.gases_t().items():
            group = kyoto_group(gas)
            out[group] = out.get(group, 0.0) + tonnes
        return out
