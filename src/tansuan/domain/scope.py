"""The reporting scope of an emission line (GHG Protocol Corporate Standard, ch. 4; Scope 2
Guidance, 2015, ch. 4: dual reporting of location- and market-based Scope 2).

Stored lines carry the value (``"1"``, ``"2-location"``, ``"2-market"``, ``"3"``); a
:class:`Scope` compares equal to it, so stored text and the enum mix freely.
"""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    """Scope of an emission line; Scope 2 is split by accounting basis."""

    DIRECT = "1"  #: Scope 1: sources the plant owns or controls
    LOCATION = "2-location"  #: Scope 2, location-based (grid average factors)
    MARKET = "2-market"  #: Scope 2, market-based (contractual instruments)
    VALUE_CHAIN = "3"  #: Scope 3: other indirect emissions

    @classmethod
    def of(cls, scope: int, basis: str = "location") -> Scope:
        """The scope of a source of scope ``scope`` (1, 2, 3) accounted on ``basis``
        (``location`` or ``market``; Scope 2 only)."""
        return cls(f"2-{basis}") if scope == 2 else cls(str(scope))


def in_total(scope: str) -> bool:
    """Whether a line of this scope is added into totals. Market-based Scope 2 is
    reported beside the location-based figure, never added to it (Scope 2 Guidance,
    dual reporting), so totals count every scope but :attr:`Scope.MARKET`."""
    return scope != Scope.MARKET
