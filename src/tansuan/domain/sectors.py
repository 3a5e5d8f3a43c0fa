"""Sectors: which guideline's default factors apply to a site (``data/sectors.csv``).

A site's ``sector:`` chooses the factor series its fuel defaults come from (``mee_power``
for power generation, ``mee_2013`` for the 2013–2015 sector guidelines) and the IPCC
category of its CH4/N2O defaults (IPCC 2006 Vol. 2 Ch. 2, Table 2.2 energy industries or
Table 2.3 manufacturing). A source's own ``factor_series:`` / ``ch4_n2o_category:``
overrides its site's sector. See docs/accounting.md, "Factor chain".

>>> sector("power").factor_series
'mee_power'
>>> sector("cement").ch4_n2o_category
'manufacturing'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from tansuan.domain import tables
from tansuan.errors import UnknownFactor


@dataclass(frozen=True)
class Sector:
    """One row of ``sectors.csv``: a sector, its factor series and CH4/N2O category."""

    name: str
    factor_series: str
    ch4_n2o_category: str
    source: str
    confidence: str


@cache
def sectors() -> Mapping[str, Sector]:
    """Every shipped sector by name."""
    out: dict[str, Sector] = {}
    for row in tables.rows("sectors"):
        out[row["sector"]] = Sector(
            name=row["sector"],
            factor_series=row["factor_series"],
            ch4_n2o_category=row["ch4_n2o_category"],
            source=f"{row['source_document']}, {row['source_clause']} ({row['source_edition']})",
            confidence=row["confidence"],
        )
    return MappingProxyType(out)


def sector(name: str) -> Sector:
    """The sector ``name``; :class:`UnknownFactor` naming the known sectors."""
    found = sectors().get(name)
    if found is None:
        raise UnknownFactor(f"unknown sector {name!r}; choose one of {', '.join(sectors())}")
    return found
