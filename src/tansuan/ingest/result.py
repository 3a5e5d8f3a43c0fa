"""What ingest hands back: the per-row errors, the counts, and the rows a batch stored."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
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
    "bad_quality": "the quality flag is not an HJ 212 flag (N F M S D C T B) or P (implausible)",
    "bad_timestamp": "the timestamp is missing, unparseable or has no time zone",
    "future_timestamp": "the timestamp is further in the future than allowed",
    # No longer given (a different repeat in a batch is the next version); kept for the
    # quarantine rows written before.
    "conflict_in_batch": "the same point and timestamp appear twice with different values",
    "bad_row": "the row cannot be read (missing column, wrong type)",
    "interval_mismatch": "an HJ 212 upload of another interval than the point's interval_s "
    "(e.g. hourly data for a minute point)",
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
class PointCodes:
    """Which point each row of a batch is, as integers (what ingest already holds).

    Row ``i`` is catalog entry ``entry[i]``, whose keys are ``site_keys[entry[i]]`` and
    ``point_keys[entry[i]]``. The key lists are the catalog's own (the same objects from
    batch to batch until a new site model is loaded), so a hook can cache work per list.
    """

    entry: npt.NDArray[np.int64]
    site_keys: Sequence[str]
    point_keys: Sequence[str]


class BatchRows:
    """The rows a batch stored (new readings and new versions), as columns.

    ``site``, ``point`` and ``quality`` are built on first use: ingest hands over integer
    point codes (:attr:`codes`) and per-part quality lists, and a hook that can work from
    those (the ledger) never pays for 2 × n Python strings.

    ``tuples()`` yields exactly what :func:`tansuan.store.batch_rows` returns for the
    same batch after commit: ``(site key, point key, ts UTC, value, quality, version)``
    sorted by (point key, ts, version, site key).
    """

    def __init__(
        self,
        site: Sequence[str] | None = None,
        point: Sequence[str] | None = None,
        ts_us: npt.NDArray[np.int64] | None = None,
        value: npt.NDArray[np.float64] | None = None,
        quality: Sequence[str] | None = None,
        version: npt.NDArray[np.int64] | None = None,
        *,
        codes: PointCodes | None = None,
        quality_parts: Sequence[Sequence[str]] | None = None,
    ) -> None:
        if (site is None or point is None) and codes is None:
            raise TypeError("BatchRows needs site and point, or codes")
        if quality is None and quality_parts is None:
            raise TypeError("BatchRows needs quality or quality_parts")
        if ts_us is None or value is None or version is None:
            raise TypeError("BatchRows needs ts_us, value and version")
        self.ts_us, self.value, self.version = ts_us, value, version
        self.codes = codes
        self._site = None if site is None else list(site)
        self._point = None if point is None else list(point)
        self._quality = None if quality is None else list(quality)
        self.quality_parts: Sequence[Sequence[str]] = (
            [self._quality] if self._quality is not None else quality_parts or []
        )

    @property
    def site(self) -> list[str]:
        if self._site is None:
            assert self.codes is not None
            keys = self.codes.site_keys
            self._site = [keys[c] for c in self.codes.entry.tolist()]
        return self._site

    @property
    def point(self) -> list[str]:
        if self._point is None:
            assert self.codes is not None
            keys = self.codes.point_keys
            self._point = [keys[c] for c in self.codes.entry.tolist()]
        return self._point

    @property
    def quality(self) -> list[str]:
        if self._quality is None:
            self._quality = [q for part in self.quality_parts for q in part]
        return self._quality

    def __len__(self) -> int:
        return len(self.ts_us)

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
