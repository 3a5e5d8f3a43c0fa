"""Working sets of one batch inside the ingestor: accepted rows and what was stored."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from tansuan.ingest.points import Catalog
from tansuan.ingest.result import BatchRows, PointCodes

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


class Rows:
    """Accepted rows sorted by (point, ts), values in canonical units."""

    __slots__ = ("entry", "ts", "value", "quality", "valid")

    def __init__(
        self,
        entry: I64,
        ts: I64,
        value: F64,
        quality: list[str],
        valid: npt.NDArray[np.bool_],
    ) -> None:
        self.entry, self.ts, self.value, self.quality, self.valid = (
            entry,
            ts,
            value,
            quality,
            valid,
        )

    def take(self, mask: npt.NDArray[np.bool_]) -> Rows:
        idx = np.flatnonzero(mask)
        return Rows(
            self.entry[idx],
            self.ts[idx],
            self.value[idx],
            [self.quality[i] for i in idx.tolist()],
            self.valid[idx],
        )


class Stored:
    """What one batch stored, collected for the hooks, and the new high-water marks."""

    def __init__(self) -> None:
        self.parts: list[tuple[Rows, I64]] = []
        self.state: dict[int, tuple[int, int, float, bool]] = {}
        self.new = 0

    def add(self, rows: Rows, version: I64) -> None:
        if rows.ts.size:
            self.parts.append((rows, version))

    def batch_rows(self, catalog: Catalog) -> BatchRows:
        """The stored rows for the hooks: point codes, not strings (built on demand)."""
        entry = np.concatenate([r.entry for r, _ in self.parts] or [np.zeros(0, np.int64)])
        return BatchRows(
            codes=PointCodes(entry, catalog.site_key, catalog.key),
            ts_us=np.concatenate([r.ts for r, _ in self.parts] or [np.zeros(0, np.int64)]),
            value=np.concatenate([r.value for r, _ in self.parts] or [np.zeros(0)]),
            quality_parts=[r.quality for r, _ in self.parts],
            version=np.concatenate([v for _, v in self.parts] or [np.zeros(0, np.int64)]),
        )


def as_int(value: object) -> int:
    assert isinstance(value, int)
    return value


def flag_at(flags: Any, i: int) -> str:
    return flags if isinstance(flags, str) else str(flags[i])


def item_at(column: Any, i: int) -> Any:
    if column is None or isinstance(column, str):
        return column
    return column[i]
