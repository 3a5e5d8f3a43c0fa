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

    ``refused`` is ``(reason, detail)`` when the gateway already knows the value must not
    become a reading but must not vanish either (an HJ 212 hourly upload for a minute
    point): ingest keeps it in its quarantine with that reason (a code of
    :data:`tansuan.ingest.result.REASONS`), never in the readings. A sink of one's own
    (``TANSUAN_GATEWAY_SINK``) must do the same.
    """

    site: str
    point: str
    ts: dt.datetime
    value: float
    unit: str | None = None
    quality: str = "N"
    refused: tuple[str, str] | None = None
