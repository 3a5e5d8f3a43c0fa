"""Manual data (invoices, stock changes, lab analyses, production): versioned entries.

An entry is keyed by (site, series, period start, period end, document ref). Importing
the same entry again is a no-op; a different value (or attributes) makes a new version
and keeps the old one (``current = false``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, select, update

from tansuan.store import schema


@dataclass(frozen=True)
class Entry:
    """One manual value, already in the series' unit."""

    site_id: int
    series_id: int
    period_start: int  # local date YYYYMMDD, inclusive
    period_end: int  # local date YYYYMMDD, inclusive
    document_ref: str
    value: float
    attrs: str  # canonical JSON
    #: SHA-256 of the uploaded file the entry came from (not stored: its ledger leaf
    #: carries it); None when it came from no file
    file_sha256: str | None = None


def write_entries(
    connection: Connection, entries: Sequence[Entry], batch_id: int, now_us: int
) -> tuple[int, int, int]:
    """Store entries; return (new, duplicates, versioned)."""
    t = schema.series_entry
    new = duplicates = versioned = 0
    for e in entries:
        key = and_(
            t.c.site_id == e.site_id,
            t.c.series_id == e.series_id,
            t.c.period_start == e.period_start,
            t.c.period_end == e.period_end,
            t.c.document_ref == e.document_ref,
        )
        current = connection.execute(
            select(t.c.version, t.c.value, t.c.attrs).where(key, t.c.current.is_(True))
        ).first()
        if current is not None and current.value == e.value and current.attrs == e.attrs:
            duplicates += 1
            continue
        version = 1
        if current is not None:
            version = current.version + 1
            connection.execute(
                update(t).where(key, t.c.version == current.version).values(current=False)
            )
            versioned += 1
        else:
            new += 1
        connection.execute(
            t.insert().values(
                site_id=e.site_id,
                series_id=e.series_id,
                period_start=e.period_start,
                period_end=e.period_end,
                document_ref=e.document_ref,
                version=version,
                current=True,
                value=e.value,
                attrs=e.attrs,
                batch_id=batch_id,
                entered_at_us=now_us,
            )
        )
    return new, duplicates, versioned


def current_entries(connection: Connection, site_key: str, series_key: str) -> list[dict[str, Any]]:
    """The current entries of a series, oldest period first."""
    t, s = schema.series_entry, schema.series
    rows = connection.execute(
        select(t.c.period_start, t.c.period_end, t.c.document_ref, t.c.value, t.c.version)
        .join(s, s.c.id == t.c.series_id)
        .where(s.c.site_key == site_key, s.c.key == series_key, t.c.current.is_(True))
        .order_by(t.c.period_start, t.c.document_ref)
    )
    return [dict(row._mapping) for row in rows]
