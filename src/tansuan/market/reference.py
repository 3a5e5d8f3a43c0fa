"""Lookups in the shipped table ``ets_power.csv`` (benchmarks, correction factors, rules)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tansuan.domain import tables
from tansuan.errors import UnknownFactor


@dataclass(frozen=True)
class Value:
    """A table value with the row it came from."""

    value: float
    id: str
    confidence: str


def _covers(series: str, year: int | None) -> bool:
    if not series:
        return True
    if year is None:
        return False
    first, _, last = series.partition("-")
    return int(first) <= year <= int(last or first)


def lookup(kind: str, key: str, year: int | None = None) -> Value:
    """The row (kind, key) whose ``series`` (a year or ``A-B``) covers ``year``.

    Raises
    ------
    UnknownFactor
        No row for that kind, key and year (nothing is carried over from another year).
    """
    for row in tables.rows("ets_power"):
        if row["kind"] == kind and row["key"] == key and _covers(row["series"], year):
            value = tables.parse_number(row["value"], where=f"ets_power {row['id']}")
            return Value(value, row["id"], row["confidence"])
    when = f" for {year}" if year is not None else ""
    raise UnknownFactor(f"ets_power has no {kind} {key!r}{when}")


def rows_of(kind: str, year: int | None = None) -> Mapping[str, Value]:
    """Every key of ``kind`` valid in ``year``."""
    out: dict[str, Value] = {}
    for row in tables.rows("ets_power"):
        if row["kind"] == kind and _covers(row["series"], year):
            out[row["key"]] = Value(
                tables.parse_number(row["value"], where=f"ets_power {row['id']}"),
                row["id"],
                row["confidence"],
            )
    return out


def weakest(tags: list[str]) -> str:
    """The least certain of some confidence tags ([M] < [S] < [V])."""
    order = {"[M]": 0, "[S]": 1, "[V]": 2}
    return min(tags, key=lambda t: order[t]) if tags else "[V]"
