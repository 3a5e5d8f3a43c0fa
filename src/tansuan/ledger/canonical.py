"""Canonical serialisation of ledger leaves (documented in docs/ledger.md).

Two canonical forms:

* **Leaf data** — the bytes a leaf hash covers — is the canonical JSON of the envelope
  ``{"kind": …, "payload": {…}, "ref": …, "v": 1}``: keys sorted by code point, no
  whitespace (``","`` and ``":"`` separators), UTF-8 without escaping non-ASCII, integers
  in decimal, floats as Python ``repr`` (the shortest string that round-trips to the same
  IEEE 754 binary64; NaN and infinities refused), aware datetimes as integer
  microseconds since 1970-01-01T00:00:00Z.
* **Readings record** of an ingest batch — a compact columnar binary form
  (``tansuan-readings-v1``, below) holding every reading of the batch in the order
  (site, point, ts, version, value, quality). The leaf payload binds it by its SHA-256, and
  the record itself is kept next to the leaf so a verifier can name which reading changed
  and what its value was. Columnar packing with numpy makes the cost per reading a few
  hundred nanoseconds, far below the cost of storing the reading.

``tansuan-readings-v1`` layout, all integers big-endian::

    magic     8 bytes   b"TSRDG\\x00\\x00\\x01"
    n         u32       number of readings
    3 string tables, for site ids, point ids and quality flags, each:
      count   u32, then count × (u16 byte length, UTF-8 bytes), sorted by code point
    site      n × u32   index into the site table
    point     n × u32   index into the point table
    ts        n × i64   [µs since 1970-01-01T00:00:00Z]
    value     n × f64   IEEE 754 binary64
    quality   n × u32   index into the quality table
    version   n × u32
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import struct
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from tansuan.errors import InputError

#: Kinds of leaf the log accepts.
KINDS = frozenset(
    {"ingest_batch", "emission_result", "report", "grant", "grant_revocation", "grant_read"}
)
ENVELOPE_VERSION = 1
READINGS_ENCODING = "tansuan-readings-v1"
READINGS_MAGIC = b"TSRDG\x00\x00\x01"

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)

#: One reading as ingest hands it over: (site_id, point_id, ts (aware), value, quality, version).
Row = tuple[str, str, dt.datetime, float, str, int]


class Record(NamedTuple):
    """One reading as the canonical record holds it (``ts_us`` [µs since epoch, UTC])."""

    site: str
    point: str
    ts_us: int
    value: float
    quality: str
    version: int

    @property
    def key(self) -> tuple[str, str, int, int]:
        return (self.site, self.point, self.ts_us, self.version)


def ts_us(ts: dt.datetime) -> int:
    """An aware datetime as integer microseconds since the Unix epoch (UTC) [µs]."""
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise InputError(f"timestamp {ts.isoformat()} has no time zone", field="ts")
    return (ts - EPOCH) // _MICROSECOND


def us_to_iso(us: int) -> str:
    """``1767225600000000`` → ``2026-01-01T00:00:00Z`` (fraction shown when non-zero)."""
    ts = EPOCH + dt.timedelta(microseconds=us)
    text = ts.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{ts.microsecond:06d}Z" if ts.microsecond else f"{text}Z"


def _json_default(value: object) -> object:
    if isinstance(value, dt.datetime):
        return ts_us(value)
    raise InputError(
        f"{type(value).__name__} cannot go into a ledger payload "
        "(use str, int, float, bool, None, list, dict or an aware datetime)",
        field="payload",
    )


def canonical_json(value: Any) -> bytes:
    """Canonical JSON bytes of ``value`` (see the module docstring)."""
    try:
        text = json.dumps(
            value,
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
            default=_json_default,
        )
    except ValueError as error:  # NaN / infinity
        if isinstance(error, InputError):
            raise
        raise InputError(f"not canonical JSON: {error}", field="payload") from error
    except TypeError as error:  # non-string dict keys
        raise InputError(f"not canonical JSON: {error}", field="payload") from error
    return text.encode("utf-8")


def leaf_data(kind: str, ref: str, payload: dict[str, Any]) -> bytes:
    """The bytes a leaf hash covers: the canonical JSON envelope."""
    if kind not in KINDS:
        raise InputError(f"unknown leaf kind {kind!r}; one of {sorted(KINDS)}", field="kind")
    if not isinstance(payload, dict):
        raise InputError("a leaf payload must be a JSON object", field="payload")
    return canonical_json({"kind": kind, "payload": payload, "ref": ref, "v": ENVELOPE_VERSION})


def payload_text(payload: dict[str, Any]) -> str:
    """Canonical JSON text of a leaf payload (what ``ledger_leaves.payload`` stores)."""
    if not isinstance(payload, dict):
        raise InputError("a leaf payload must be a JSON object", field="payload")
    return canonical_json(payload).decode("utf-8")


def envelope(kind: str, ref: str, payload_json: str) -> bytes:
    """Leaf data from a payload already in canonical JSON text.

    Equal to ``canonical_json({"kind": kind, "payload": payload, "ref": ref, "v": 1})``
    because the envelope's keys are already in code-point order.
    """
    if kind not in KINDS:
        raise InputError(f"unknown leaf kind {kind!r}; one of {sorted(KINDS)}", field="kind")
    if not isinstance(ref, str):
        raise InputError(f"ref must be a string, got {ref!r}", field="ref")
    return (
        f'{{"kind":{json.dumps(kind, ensure_ascii=False)},"payload":{payload_json},'
        f'"ref":{json.dumps(ref, ensure_ascii=False)},"v":{ENVELOPE_VERSION}}}'
    ).encode()


def _intern(values: Sequence[str], n: int) -> tuple[list[str], np.ndarray]:
    distinct = set(values)
    if len(distinct) == 1:
        return list(distinct), np.zeros(n, dtype=np.uint32)
    table = sorted(distinct)
    lookup = {value: i for i, value in enumerate(table)}
    return table, np.fromiter(map(lookup.__getitem__, values), dtype=np.uint32, count=n)


def _pack_table(table: list[str]) -> bytes:
    parts = [struct.pack(">I", len(table))]
    for text in table:
        if not isinstance(text, str):
            raise InputError(f"{text!r} is not a string", field="rows")
        raw = text.encode("utf-8")
        parts.append(struct.pack(">H", len(raw)) + raw)
    return b"".join(parts)


def encode_readings(rows: Sequence[Row]) -> bytes:
    """The canonical ``tansuan-readings-v1`` record of a batch's readings.

    Order-independent: rows are sorted canonically, so the ingest order and the store's
    order give the same bytes.
    """
    n = len(rows)
    if n == 0:
        return READINGS_MAGIC + struct.pack(">IIII", 0, 0, 0, 0)
    try:
        sites, points, stamps, values, qualities, versions = zip(*rows, strict=True)
        ts = np.fromiter(((t - EPOCH) // _MICROSECOND for t in stamps), np.int64, count=n)
        value = np.array(values, dtype=np.float64)
        version = np.array(versions, dtype=np.int64)
    except (TypeError, ValueError) as error:
        raise InputError(f"readings cannot be recorded: {error}", field="rows") from error
    if not np.isfinite(value).all():
        raise InputError("a reading value is NaN or infinite", field="rows")
    if version.min() < 0 or version.max() >= 2**32:
        raise InputError("a reading version is outside 0 … 2³²-1", field="rows")
    site_table, site = _intern(sites, n)
    point_table, point = _intern(points, n)
    quality_table, quality = _intern(qualities, n)
    order = np.lexsort((quality, value, version, ts, point, site))
    return b"".join(
        (
            READINGS_MAGIC,
            struct.pack(">I", n),
            _pack_table(site_table),
            _pack_table(point_table),
            _pack_table(quality_table),
            site[order].astype(">u4").tobytes(),
            point[order].astype(">u4").tobytes(),
            ts[order].astype(">i8").tobytes(),
            value[order].astype(">f8").tobytes(),
            quality[order].astype(">u4").tobytes(),
            version[order].astype(">u4").tobytes(),
        )
    )


def decode_readings(body: bytes) -> list[Record]:
    """Records of a ``tansuan-readings-v1`` body, in canonical order."""
    try:
        if body[:8] != READINGS_MAGIC:
            raise ValueError("wrong magic")
        (n,) = struct.unpack_from(">I", body, 8)
        offset = 12
        tables: list[list[str]] = []
        for _ in range(3):
            (count,) = struct.unpack_from(">I", body, offset)
            offset += 4
            table = []
            for _ in range(count):
                (length,) = struct.unpack_from(">H", body, offset)
                table.append(body[offset + 2 : offset + 2 + length].decode("utf-8"))
                offset += 2 + length
            tables.append(table)
        columns = []
        for dtype in (">u4", ">u4", ">i8", ">f8", ">u4", ">u4"):
            width = np.dtype(dtype).itemsize
            columns.append(np.frombuffer(body, dtype=dtype, count=n, offset=offset).tolist())
            offset += n * width
        if offset != len(body):
            raise ValueError("trailing bytes")
        site_table, point_table, quality_table = tables
        return [
            Record(site_table[s], point_table[p], t, v, quality_table[q], ver)
            for s, p, t, v, q, ver in zip(*columns, strict=True)
        ]
    except (ValueError, IndexError, struct.error, UnicodeDecodeError) as error:
        raise InputError(f"not a {READINGS_ENCODING} record: {error}", field="body") from error


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def ingest_batch_payload(batch_id: int, count: int, body: bytes) -> dict[str, Any]:
    """Leaf payload of an ingest batch: its id, reading count and record digest."""
    return {
        "batch_id": int(batch_id),
        "count": count,
        "encoding": READINGS_ENCODING,
        "readings_sha256": sha256_hex(body),
    }


def describe_reading(key: tuple[str, str, int, int]) -> str:
    """``site=s1 point=p3 ts=2026-01-01T00:00:00Z version=1``."""
    site, point, us, version = key
    return f"site={site} point={point} ts={us_to_iso(us)} version={version}"
