"""Decode batches of readings sent as JSON or CSV into columns for ``ingest_columns``.

Formats accepted by ``POST /api/v1/readings`` (documented in docs/ingest.md):

* JSON, columnar (fastest)::

    {"site": "demo-site", "point": ["fan-001.power", …], "ts": [1764115200, …],
     "value": [41.5, …], "unit": "kW", "quality": "N"}

  ``site``, ``unit`` and ``quality`` may be one value or a list per row.
* JSON, rows: ``{"readings": [{"site": …, "point": …, "ts": …, "value": …,
  "unit": …, "quality": …}, …]}`` or the bare list.
* CSV with a header row ``site,point,ts,value[,unit][,quality]`` (UTF-8, optional BOM).

``ts`` is ISO 8601 with an offset (``2026-11-26T08:00:00+08:00``, ``…Z``) or a number of
seconds since 1970-01-01 UTC. A timestamp without an offset is rejected: in a plant on
Beijing time a naive time is ambiguous.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from tansuan.errors import InputError, PayloadTooLarge
from tansuan.ingest.result import RowError
from tansuan.store.timeutil import parse_iso


@dataclass
class Columns:
    """A decoded batch: one entry per row as sent, plus the rows that could not be read."""

    site: str | list[str]
    point: list[str]
    ts_us: npt.NDArray[np.int64]
    value: npt.NDArray[np.float64]
    unit: str | list[str | None] | None = None
    quality: str | list[str] | None = None
    errors: list[RowError] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.point)


def _timestamps(raw: list[Any], site: Any, point: list[str], errors: list[RowError]) -> Any:
    n = len(raw)
    if n and all(type(x) is int or type(x) is float for x in raw):
        seconds = np.asarray(raw, dtype=np.float64)
        out = np.round(seconds * 1_000_000).astype(np.int64)
        bad = ~np.isfinite(seconds)
        for i in np.flatnonzero(bad).tolist():
            errors.append(_err(i, site, point, "bad_timestamp", f"ts {raw[i]!r}"))
        out[bad] = 0
        return out
    out = np.zeros(n, dtype=np.int64)
    for i, x in enumerate(raw):
        try:
            if isinstance(x, str):
                out[i] = parse_iso(x)
            elif isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x):
                out[i] = round(x * 1_000_000)
            else:
                raise InputError(f"ts {x!r} is neither ISO 8601 text nor epoch seconds")
        except InputError as exc:
            errors.append(_err(i, site, point, "bad_timestamp", exc.message))
    return out


def _values(raw: list[Any], site: Any, point: list[str], errors: list[RowError]) -> Any:
    try:
        return np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        pass
    out = np.zeros(len(raw), dtype=np.float64)
    for i, x in enumerate(raw):
        try:
            if isinstance(x, bool):
                raise ValueError
            out[i] = float(x)
        except (TypeError, ValueError):
            errors.append(_err(i, site, point, "bad_value", f"value {x!r} is not a number"))
            out[i] = np.nan
    return out


def _err(i: int, site: Any, point: list[str], code: str, detail: str) -> RowError:
    return RowError(i, site if isinstance(site, str) else site[i], point[i], code, detail)


def _text_list(value: Any, n: int, name: str, optional: bool) -> Any:
    if value is None:
        if optional:
            return None
        raise InputError(f"missing {name!r}", field=name)
    if isinstance(value, str):
        return value
    if not isinstance(value, list) or len(value) != n:
        raise InputError(f"{name!r} must be text or a list of {n} entries", field=name)
    if not all(x is None or isinstance(x, str) for x in value) or (not optional and None in value):
        raise InputError(f"every entry of {name!r} must be text", field=name)
    return value


def from_json(body: bytes) -> Columns:
    """Decode a JSON batch (columnar or rows); raise :class:`InputError` if unusable."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"body is not valid JSON: {exc}") from None
    if isinstance(doc, dict) and "point" in doc:
        point = doc.get("point")
        if not isinstance(point, list) or not all(isinstance(p, str) for p in point):
            raise InputError("'point' must be a list of point ids", field="point")
        n = len(point)
        for name in ("ts", "value"):
            if not isinstance(doc.get(name), list) or len(doc[name]) != n:
                raise InputError(f"{name!r} must be a list of {n} entries", field=name)
        site = _text_list(doc.get("site"), n, "site", optional=False)
        quality = _text_list(doc.get("quality"), n, "quality", optional=True)
        if isinstance(quality, list):
            quality = [q or "N" for q in quality]  # null = normal
        errors: list[RowError] = []
        return Columns(
            site=site,
            point=point,
            ts_us=_timestamps(doc["ts"], site, point, errors),
            value=_values(doc["value"], site, point, errors),
            unit=_text_list(doc.get("unit"), n, "unit", optional=True),
            quality=quality,
            errors=errors,
        )
    rows = doc.get("readings") if isinstance(doc, dict) else doc
    if not isinstance(rows, list):
        raise InputError("expected {'point': [...], ...}, {'readings': [...]} or a list of rows")
    return from_rows(rows)


def from_rows(rows: list[Any]) -> Columns:
    """Columns from a list of row objects ``{site, point, ts, value, unit?, quality?}``."""
    n = len(rows)
    sites: list[str] = [""] * n
    points: list[str] = [""] * n
    ts: list[Any] = [0] * n
    values: list[Any] = [0.0] * n
    units: list[str | None] = [None] * n
    flags: list[str] = ["N"] * n
    errors: list[RowError] = []
    broken: set[int] = set()
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or not all(k in row for k in ("site", "point", "ts", "value")):
            errors.append(RowError(i, None, None, "bad_row", "needs site, point, ts and value"))
            broken.add(i)
            continue
        sites[i], points[i] = str(row["site"]), str(row["point"])
        ts[i], values[i] = row["ts"], row["value"]
        units[i] = row.get("unit")
        flags[i] = str(row.get("quality") or "N")
    good_ts = [0 if i in broken else x for i, x in enumerate(ts)]
    good_values = [0.0 if i in broken else x for i, x in enumerate(values)]
    ts_us = _timestamps(good_ts, sites, points, errors)
    value = _values(good_values, sites, points, errors)
    return Columns(sites, points, ts_us, value, units, flags, errors)


CSV_COLUMNS = ("site", "point", "ts", "value", "unit", "quality")


def from_csv(body: bytes) -> Columns:
    """Decode a CSV batch with a header row; raise :class:`InputError` (naming the row,
    header = row 1) if unusable: no data row, or a row the CSV reader cannot split."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("CSV must be UTF-8") from None
    records = csv_records(text)
    header = [h.strip().lower() for h in (records[0] if records else [])]
    missing = [c for c in CSV_COLUMNS[:4] if c not in header]
    if missing:
        raise InputError(f"CSV header lacks column(s) {', '.join(missing)}", field="header")
    at = {name: header.index(name) for name in CSV_COLUMNS if name in header}
    width = max(at.values()) + 1
    rows: list[dict[str, Any]] = []
    for fields in records[1:]:
        if not fields:
            continue
        if len(fields) < width:
            rows.append({})
            continue
        row: dict[str, Any] = {name: fields[i].strip() for name, i in at.items()}
        ts_text = row["ts"]
        try:
            row["ts"] = float(ts_text)
        except ValueError:
            row["ts"] = ts_text
        row["unit"] = row.get("unit") or None
        rows.append(row)
    if not rows:
        raise InputError(
            "CSV 只有表头、没有数据行（第 2 行）/ the CSV has a header but no data rows "
            "(row 2 is missing)",
            field="row 2",
        )
    return from_rows(rows)


def csv_records(
    text: str, *, max_rows: int | None = None, max_columns: int | None = None
) -> list[list[str]]:
    """The records of a CSV text (header = row 1). A record the CSV reader cannot split (a
    bare carriage return in an unquoted field, a NUL byte) is an :class:`InputError`
    naming the row; more than ``max_rows`` records or a record wider than ``max_columns``
    is a :class:`PayloadTooLarge` naming the limit (the read stops there)."""
    out: list[list[str]] = []
    reader = csv.reader(io.StringIO(text))
    shared = Shared()
    try:
        for fields in reader:
            out.append([shared(f) for f in fields])
            if max_rows is not None and len(out) > max_rows:
                raise rows_over(max_rows)
            if max_columns is not None and len(fields) > max_columns:
                raise columns_over(max_columns, len(out))
    except csv.Error as exc:
        row = len(out) + 1
        raise InputError(
            f"CSV 第 {row} 行无法读取（字段中的回车或换行须加引号）/ CSV row {row} cannot "
            f"be read ({exc}); a carriage return or line break inside a field must be quoted",
            field=f"row {row}",
        ) from None
    return out


#: Most distinct values a :class:`Shared` remembers (each costs ~100 bytes of dict entry).
SHARED_VALUES = 10_000


class Shared:
    """Share equal strings (a site, a series, a date repeated on every row of a large
    table): a value seen before is returned as the one object already kept, so a table
    of a million rows holds each repeated value once. Remembers the first
    :data:`SHARED_VALUES` distinct values; later new values are passed through."""

    def __init__(self) -> None:
        self.seen: dict[Any, Any] = {}

    def __call__(self, value: Any) -> Any:
        kept = self.seen.get(value)
        if kept is not None:
            return kept
        if len(self.seen) < SHARED_VALUES:
            self.seen[value] = value
        return value


def rows_over(limit: int) -> PayloadTooLarge:
    """The table has more rows than ``TANSUAN_UPLOAD_MAX_ROWS``."""
    return PayloadTooLarge(
        f"表格超过 {limit} 行（TANSUAN_UPLOAD_MAX_ROWS）/ the table has more than {limit} rows "
        "(TANSUAN_UPLOAD_MAX_ROWS, header included); split the file",
        field="rows",
    )


def columns_over(limit: int, row: int) -> PayloadTooLarge:
    """Row ``row`` has more columns than ``TANSUAN_UPLOAD_MAX_COLUMNS``."""
    return PayloadTooLarge(
        f"第 {row} 行超过 {limit} 列（TANSUAN_UPLOAD_MAX_COLUMNS）/ row {row} has more than "
        f"{limit} columns (TANSUAN_UPLOAD_MAX_COLUMNS)",
        field=f"row {row}",
    )
