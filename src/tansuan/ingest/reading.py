"""The one value every gateway hands to ingest."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

#: Quality flags (HJ 212-2017 Table 8). N normal; F instrument stopped; M maintenance;
#: S manually set value; D instrument fault; C calibration; T above the upper measuring
#: limit; B instrument <-> data-logger communication fault.
QUALITY_FLAGS = frozenset("NFMSDCTB")
#: Flags whose values are not valid measurements (HJ 212 Appendix C notes, HJ 75).
INVALID_FLAGS = frozenset("FMDCB")


@dataclass(frozen=True, slots=True)
class Reading:
    """One value of one point at one instant.

    ``ts`` is timezone-aware (stored as UTC). ``unit`` is the unit the value was sent
    in; ``None`` means it is already in the point's canonical unit. ``quality`` is an
    HJ 212 data flag (``N`` normal).
    """

    site: str
    point: str
    ts: dt.datetime
    value: float
    unit: str | None = None
    quality: str = "N"
