"""What ingest hands back: the per-row errors, the counts, and the rows a batch stored."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection

from tansuan.store.timeutil import from_us

#: Stable reason codes of rejected rows (kept in the quarantine table).
REASONS = {
    "unknown_point": "no such point in the loaded site model",
    "retired_point": "the point was retired before this timestamp",
    "bad_unit": "unknown unit, or a unit of the wrong dimension for the point",
    "bad_value": "the value is missing, not a number, or not finite",
    "out_of_range": "the value is outside the point's valid_range",
    "bad_quality": "the quality flag is not an HJ 212 flag (N F M S D C T B)",
    "bad_timestamp": "the timestamp is missing, unparseable or has no time zone",
    "future_timestamp": "the timestamp is further in the future than allowed",
    "conflict_in_batch": "the same point and timestamp appear twice with different values",
    "bad_row": "the row cannot be read (missing column, wrong type)",
}


@dataclass(frozen=True)
class RowError:
    """One rejected row: its 0-based index in the batch as sent, and why."""

    index: int
    site: str | None
    point: str | None
    code: str
    detail: str


@dataclass
class IngestResult:
    """The outcome of one batch; returned only after the batch is durably committed."""

    batch_id: int | None
    received: int
    new: int = 0
    duplicates: int = 0
    versioned: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        """Rows stored by this batch (new readings and new versions)."""
        return self.new + self.versioned

    @property
    def rejected(self) -> int:
        return len(self.errors)


@dataclass(frozen=True)
class BatchRows:
    """The rows a batch stored (new readings and new versions), as columns.

    ``tuples()`` yields exactly what :func:`tansuan.store.batch_rows` returns for the
    same batch after commit: ``(site key, point key, ts UTC, value, quality, version)``
    sorted by (point key, ts, version, site key).
    """

    site: list[str]
    point: list[str]
    ts_us: npt.NDArray[np.int64]
    value: npt.NDArray[np.float64]
    quality: list[str]
    version: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.point)

    def tuples(self) -> list[tuple[str, str, dt.datetime, float, str, int]]:
        rows = [
            (s, p, from_us(t), float(v), q, int(n))
            for s, p, t, v, q, n in zip(
                self.site,
                self.point,
                self.ts_us.tolist(),
                self.value.tolist(),
                self.quality,
                self.version.tolist(),
                strict=True,
            )
        ]
        rows.sort(key=lambda r: (r[1], r[2], r[5], r[0]))
        return rows

    def __iter__(self) -> Iterator[tuple[str, str, dt.datetime, float, str, int]]:
        return iter(self.tuples())


#: Called inside the batch's transaction just before commit (the ledger appends a leaf).
BatchHook = Callable[[Connection, int, BatchRows], None]
