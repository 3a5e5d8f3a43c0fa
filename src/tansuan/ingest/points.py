"""The points ingest knows, as numpy columns, read from the store's ``point`` table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, func, select

from tansuan.store import schema
from tansuan.store.rollups import KIND_CODES

NEVER = np.iinfo(np.int64).max


@dataclass
class Catalog:
    """Every loaded point; row ``i`` of each column describes catalog entry ``i``."""

    model_version: int
    index: dict[str, dict[str, int]]
    point_id: npt.NDArray[np.int64]
    site_id: npt.NDArray[np.int64]
    kind: npt.NDArray[np.int64]
    range_min: npt.NDArray[np.float64]
    range_max: npt.NDArray[np.float64]
    rollover: npt.NDArray[np.float64]
    max_per_hour: npt.NDArray[np.float64]
    retired_at_us: npt.NDArray[np.int64]
    unit: list[str]
    timezone: list[str]
    site_key: list[str]
    key: list[str]
    by_point_id: dict[int, int]

    @classmethod
    def read(cls, connection: Connection) -> Catalog:
        version = connection.execute(select(func.max(schema.model_version.c.id))).scalar() or 0
        p = schema.point
        rows = connection.execute(select(p).order_by(p.c.id)).all()
        index: dict[str, dict[str, int]] = {}
        for i, row in enumerate(rows):
            index.setdefault(row.site_key, {})[row.key] = i

        def floats(values: Sequence[float | None]) -> npt.NDArray[np.float64]:
            return np.array([np.nan if v is None else v for v in values], dtype=np.float64)

        return cls(
            model_version=int(version),
            index=index,
            point_id=np.array([r.id for r in rows], dtype=np.int64),
            site_id=np.array([r.site_id for r in rows], dtype=np.int64),
            kind=np.array([KIND_CODES[r.kind] for r in rows], dtype=np.int64),
            range_min=floats([r.range_min for r in rows]),
            range_max=floats([r.range_max for r in rows]),
            rollover=floats([r.rollover for r in rows]),
            max_per_hour=floats([r.max_per_hour for r in rows]),
            retired_at_us=np.array(
                [NEVER if r.retired_at_us is None else r.retired_at_us for r in rows],
                dtype=np.int64,
            ),
            unit=[r.unit for r in rows],
            timezone=[r.timezone for r in rows],
            site_key=[r.site_key for r in rows],
            key=[r.key for r in rows],
            by_point_id={int(r.id): i for i, r in enumerate(rows)},
        )

    def lookup(self, site: str | Sequence[str], point: Sequence[str]) -> npt.NDArray[np.int64]:
        """Catalog entry of each row, -1 where the point is unknown."""
        n = len(point)
        if isinstance(site, str):
            table = self.index.get(site, {})
            return np.fromiter((table.get(p, -1) for p in point), dtype=np.int64, count=n)
        empty: dict[str, int] = {}
        index = self.index
        return np.fromiter(
            (index.get(s, empty).get(p, -1) for s, p in zip(site, point, strict=True)),
            dtype=np.int64,
            count=n,
        )
