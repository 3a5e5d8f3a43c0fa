"""Columns of simulated readings: the shape the store's columnar ingest takes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tansuan.twin.calendar import F64, I64


@dataclass
class Frame:
    """Readings as columns: point id, UTC epoch µs, value (canonical unit), HJ 212 flag."""

    point: np.ndarray  # str
    ts_us: I64
    value: F64
    quality: np.ndarray  # '<U1'

    @property
    def n(self) -> int:
        return int(self.ts_us.size)

    @classmethod
    def empty(cls) -> Frame:
        return cls(
            np.array([], dtype=object),
            np.array([], dtype=np.int64),
            np.array([], dtype=np.float64),
            np.array([], dtype="<U1"),
        )

    @classmethod
    def grid(
        cls, points: Sequence[str], ts_us: I64, values: F64, flags: np.ndarray | None = None
    ) -> Frame:
        """Rows for ``points`` × ``ts_us`` from a (points, steps) array of values."""
        n_points, n_steps = values.shape
        point = np.repeat(np.asarray(points, dtype=object), n_steps)
        ts = np.tile(ts_us, n_points)
        quality = (
            np.full(n_points * n_steps, "N", dtype="<U1")
            if flags is None
            else np.asarray(flags, dtype="<U1").reshape(-1)
        )
        return cls(point, ts, values.reshape(-1).astype(np.float64), quality)

    @staticmethod
    def concat(frames: Sequence[Frame]) -> Frame:
        frames = [f for f in frames if f.n]
        if not frames:
            return Frame.empty()
        return Frame(
            np.concatenate([f.point for f in frames]),
            np.concatenate([f.ts_us for f in frames]),
            np.concatenate([f.value for f in frames]),
            np.concatenate([f.quality for f in frames]),
        )

    def take(self, mask: np.ndarray) -> Frame:
        return Frame(self.point[mask], self.ts_us[mask], self.value[mask], self.quality[mask])

    def take_before(self, ts_us: int) -> Frame:
        """Rows stamped at or before ``ts_us``."""
        keep = self.ts_us <= ts_us
        return self if bool(keep.all()) else self.take(keep)

    def sorted(self) -> Frame:
        order = np.lexsort((self.ts_us,))
        return self.take(order)
