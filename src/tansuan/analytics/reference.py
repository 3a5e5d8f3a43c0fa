"""Thresholds and constants from the shipped table ``analytics_criteria`` (with sources)."""

from __future__ import annotations

import datetime as dt
from functools import cache

from tansuan.domain import tables
from tansuan.domain.catalog import shipped_catalog
from tansuan.errors import UnknownFactor


@cache
def criterion(kind: str, key: str) -> float:
    """The value of row (kind, key) of ``analytics_criteria.csv``.

    Raises
    ------
    UnknownFactor
        No such row.
    """
    for row in tables.rows("analytics_criteria"):
        if row["kind"] == kind and row["key"] == key:
            return tables.parse_number(row["value"], where=f"analytics_criteria {row['id']}")
    raise UnknownFactor(f"analytics_criteria has no row {kind}/{key}")


def grid_factor(configured: float | None, given: float | None, on: dt.date) -> tuple[float, str]:
    """The electricity factor [tCO2/MWh] to value kWh with, and where it comes from:
    ``given`` (a query or CLI option), else ``configured``
    (TANSUAN_FINDINGS_FACTOR_T_PER_MWH), else the shipped national grid factor of the
    catalog's default series valid ``on``."""
    if given is not None:
        return given, "given"
    if configured is not None:
        return configured, "TANSUAN_FINDINGS_FACTOR_T_PER_MWH"
    row = shipped_catalog().lookup("grid_electricity", "electricity", on=on)
    return row.parameter("factor", "tCO2/MWh").value, f"{row.id}: {row.source}"
