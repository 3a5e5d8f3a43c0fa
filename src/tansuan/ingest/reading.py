"""The one value every gateway hands to ingest."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tansuan.domain.quality import INVALID_FLAGS, QUALITY_FLAGS

__all__ = ["INVALID_FLAGS", "QUALITY_FLAGS", "Reading"]


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
