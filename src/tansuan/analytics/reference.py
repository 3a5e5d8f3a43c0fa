"""Thresholds and constants from the shipped table ``analytics_criteria`` (with sources)."""

from __future__ import annotations

from functools import cache

from tansuan.domain import tables
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


def source_of(kind: str, key: str) -> str:
    """``source_document, source_clause`` of a row, for traces and reports."""
    for row in tables.rows("analytics_criteria"):
        if row["kind"] == kind and row["key"] == key:
            return f"{row['source_document']}, {row['source_clause']} {row['confidence']}"
    raise UnknownFactor(f"analytics_criteria has no row {kind}/{key}")
