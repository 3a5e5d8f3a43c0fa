"""Canonical serialisation of ledger leaves (documented in docs/ledger.md).

Two canonical forms:

* **Leaf data** — the bytes a leaf hash covers — is the canonical JSON of the envelope
  ``{"kind": …, "payload": {…}, "ref": …, "v": 1}``: keys sorted by code point, no
  whitespace (``","`` and ``":"`` separators), UTF-8 without escaping non-ASCII, integers
  in decimal, floats as Python ``repr`` (the shortest string that round-trips to the same
  IEEE 754 binary64; NaN and infinities refused), aware datetimes as integer
  microseconds since 1970-01-01T00:00:00Z.
* **Readings record** of an ingest batch — a compact, dictionary-encoded columnar binary
  form (``tansuan-readings-v1``, below) holding every reading of the batch in canonical
  order (site, point, ts, version, value, quality). The leaf payload binds it by its
  SHA-256, and the record itself is kept next to the leaf so a verifier can name which
  reading changed and what its value was. Packing columns with numpy costs a fraction of
  a microsecond per reading, and a typical batch (one site, one version, many points per
  instant) takes 11 bytes per reading.

``tansuan-readings-v1`` layout, all integers big-endian::

    magic        8 bytes   b"TSRDG\\x00\\x00\\x01"
    n            u32       number of readings
    dictionaries, each: count u32, then count entries in ascending order
      site       strings   (u16 byte length, UTF-8 bytes), code-point order
      point      strings
      ts         i64       [µs since 1970-01-01T00:00:00Z]
      quality    strings
      version    u32
    index columns, n entries each, into the dictionary of the same name, each entry
    w bytes unsigned with w = 0 (count ≤ 1), 1 (≤ 2^8), 2 (≤ 2^16) or 4
      site, point, ts, quality, version
    value        n × f64   IEEE 754 binary64
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import math
import struct
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from tansuan.errors import InputError

#: Kinds of leaf the log accepts.
KINDS = frozenset(
    {"ingest_batch", "emission_result", "report", "grant", "grant_revocation", "grant_read"}
)
#: Allowance accounts: account versions, trades and their cancellations.
KINDS = KINDS | {"allowance"}
#: Declared shutdowns of an emission source (a month without data that is a true zero).
KINDS = KINDS | {"declaration"}
#: Declared meter replacements (``tansuan replace-meter``).
KINDS = KINDS | {"meter_replacement"}
#: The four-eyes workflow: a month filed or reopened; a proposal made, accepted or rejected.
KINDS = KINDS | {"filing", "proposal"}
#: Manual series entries (invoices, lab analyses, production), one leaf a stored version.
KINDS = KINDS | {"manual_entry"}
#: Evidence files (invoices, lab reports, certificates, photos), one leaf an attachment.
KINDS = KINDS | {"evidence"}
#: The verifier's workbench: requests and findings (each step), a verifier key registered
#: on a grant, and a period signed off (views/workbench.py, ledger/signoff.py).
KINDS = KINDS | {"verifier_request", "verifier_finding", "grant_key", "signoff"}
#: Site-model versions and shipped factor-table releases (the inputs a result binds).
KINDS = KINDS | {"site_model", "factor_table"}
ENVELOPE_VERSION = 1
_KIND_JSON = {kind: json.dumps(kind) for kind in KINDS}
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
    kind_json = _KIND_JSON.get(kind)
    if kind_json is None:
        raise InputError(f"unknown leaf kind {kind!r}; one of {sorted(KINDS)}", field="kind")
    if not isinstance(ref, str):
        raise InputError(f"ref must be a string, got {ref!r}", field="ref")
    if ref.isascii() and ref.isprintable() and '"' not in ref and "\\" not in ref:
        ref_json = f'"{ref}"'  # what json.dumps gives for such a string, without its cost
    else:
        ref_json = json.dumps(ref, ensure_ascii=False)
    return (
        f'{{"kind":{kind_json},"payload":{payload_json},"ref":{ref_json},"v":{ENVELOPE_VERSION}}}'
    ).encode()


def _dictionary(values: Sequence[Any], n: int) -> tuple[list[Any], np.ndarray]:
    """Sorted distinct values and each value's index into them."""
    distinct = set(values)
    if len(distinct) == 1:
        return list(distinct), np.zeros(n, dtype=np.uint32)
    table = sorted(distinct)
    lookup = {value: i for i, value in enumerate(table)}
    return table, np.fromiter(map(lookup.__getitem__, values), dtype=np.uint32, count=n)


def _unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` at a third of its cost (sort + search)."""
    ordered = np.sort(values)
    keep = np.empty(ordered.size, dtype=bool)
    keep[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    table = ordered[keep]
    if table.size == 1:
        return table, np.zeros(values.size, dtype=np.int64)
    return table, np.searchsorted(table, values)


def _ts_dictionary(stamps: Sequence[dt.datetime], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct instants [µs since epoch] and each reading's index into them.

    Converts each distinct instant once: a batch usually holds many points per instant.
    """
    distinct = set(stamps)
    if len(distinct) * 2 < n:
        table = sorted(distinct)
        lookup = {t: i for i, t in enumerate(table)}
        micros = np.array([(t - EPOCH) // _MICROSECOND for t in table], dtype=np.int64)
        return micros, np.fromiter(map(lookup.__getitem__, stamps), dtype=np.uint32, count=n)
    micros = np.fromiter(((t - EPOCH) // _MICROSECOND for t in stamps), dtype=np.int64, count=n)
    return _unique_inverse(micros)


def _width(count: int) -> str | None:
    """dtype of an index column into a dictionary of ``count`` entries (None: 0 bytes)."""
    if count <= 1:
        return None
    return ">u1" if count <= 1 << 8 else ">u2" if count <= 1 << 16 else ">u4"


def _packed_string(text: Any) -> bytes:
    """One dictionary entry: u16 byte length + UTF-8 bytes."""
    if not isinstance(text, str):
        raise InputError(f"{text!r} is not a string", field="rows")
    raw = text.encode("utf-8")
    if len(raw) > 0xFFFF:
        raise InputError(f"id {text[:40]!r}… is longer than 65535 bytes", field="rows")
    return struct.pack(">H", len(raw)) + raw


def _pack_strings(table: list[Any]) -> bytes:
    return struct.pack(">I", len(table)) + b"".join(map(_packed_string, table))


def _canonical_order(columns: Sequence[np.ndarray], sizes: Sequence[int]) -> np.ndarray | None:
    """Indices sorting rows canonically (first column = primary key), ties fully broken;
    None when the rows already are in canonical order.

    ``columns`` are the site, point, ts, version, value and quality columns, the first
    four indices into dictionaries of ``sizes`` entries. Those four are folded into one
    integer key (mixed radix; constant columns drop out) so one sort does; value and
    quality are only consulted when (site, point, ts, version) repeats, which the store
    never allows.
    """
    site, point, ts, version, value, quality = columns
    full = (quality, value, version, ts, point, site)  # np.lexsort: last key is primary
    varying = [(c, size) for c, size in zip(columns[:4], sizes, strict=True) if size > 1]
    if not varying:  # every row has the same (site, point, ts, version)
        return np.lexsort(full)
    if math.prod(size for _, size in varying) >= 1 << 62:  # cannot happen below 2^15 rows…
        order = np.lexsort([c for c, _ in varying][::-1])
        key = None
    else:
        key = varying[0][0].astype(np.int64)
        for column, size in varying[1:]:
            key = key * size + column
        if (key[1:] > key[:-1]).all():
            return None
        order = np.argsort(key)  # keys unique unless repeated (then lexsort below)
    repeated = np.ones(len(ts) - 1, dtype=bool)
    for column in [key] if key is not None else [c for c, _ in varying]:
        ordered = column[order]
        repeated &= ordered[1:] == ordered[:-1]
    return np.lexsort(full) if repeated.any() else order


def encode_readings(rows: Sequence[Row]) -> bytes:
    """The canonical ``tansuan-readings-v1`` record of a batch's readings.

    Order-independent: rows are sorted canonically, so the ingest order and the store's
    order give the same bytes.
    """
    n = len(rows)
    if n == 0:
        return _EMPTY_RECORD
    try:
        sites, points, stamps, values, qualities, versions = zip(*rows, strict=True)
        ts_table, ts = _ts_dictionary(stamps, n)
        value = np.array(values, dtype=np.float64)
        version_table, version = _dictionary(versions, n)
    except (TypeError, ValueError) as error:
        raise InputError(f"readings cannot be recorded: {error}", field="rows") from error
    site_table, site = _dictionary(sites, n)
    point_table, point = _dictionary(points, n)
    quality_table, quality = _dictionary(qualities, n)
    return _encode(
        (_pack_strings(site_table), len(site_table), site),
        (_pack_strings(point_table), len(point_table), point),
        ts_table,
        ts,
        value,
        (_pack_strings(quality_table), len(quality_table), quality),
        version_table,
        version,
    )


def encode_columns(
    sites: Sequence[str],
    points: Sequence[str],
    ts_us: np.ndarray,
    values: np.ndarray,
    qualities: Sequence[str],
    versions: np.ndarray,
) -> bytes:
    """:func:`encode_readings` of readings given as columns.

    ``ts_us`` are epoch microseconds (UTC). Gives the same bytes as the row form.
    """
    n = len(points)
    if n == 0:
        return _EMPTY_RECORD
    site_table, site = _dictionary(sites, n)
    point_table, point = _dictionary(points, n)
    return _encode_numeric(
        (_pack_strings(site_table), len(site_table), site),
        (_pack_strings(point_table), len(point_table), point),
        ts_us,
        values,
        [qualities],
        versions,
    )


class KeyTable:
    """The code-point rank of every catalog entry's site key and point key.

    Built once per catalog (a few ms for 100k points) so that :func:`encode_coded`
    turns a batch's integer point codes into the record's string dictionaries with
    array operations only.
    """

    def __init__(self, site_keys: Sequence[str], point_keys: Sequence[str]) -> None:
        if len(site_keys) != len(point_keys):
            raise InputError("site and point key lists differ in length", field="rows")
        self.site_keys, self.point_keys = site_keys, point_keys
        self.size = len(point_keys)
        self.site_rank, self.site_packed = self._ranks(site_keys)
        self.point_rank, self.point_packed = self._ranks(point_keys)

    @staticmethod
    def _ranks(keys: Sequence[str]) -> tuple[np.ndarray, list[bytes]]:
        try:
            table = sorted(set(keys))
        except TypeError as error:
            raise InputError(f"keys are not all strings: {error}", field="rows") from error
        rank = {key: i for i, key in enumerate(table)}
        return (
            np.fromiter(map(rank.__getitem__, keys), dtype=np.int64, count=len(keys)),
            [_packed_string(key) for key in table],
        )

    def dictionary(self, entry: np.ndarray, used: np.ndarray, site: bool) -> _Column:
        """The packed dictionary of the site (or point) keys of ``used`` entries and each
        row's index into it."""
        ranks, packed = (
            (self.site_rank, self.site_packed) if site else (self.point_rank, self.point_packed)
        )
        mark = np.zeros(len(packed), dtype=bool)
        mark[ranks[used]] = True
        present = np.flatnonzero(mark)
        header = struct.pack(">I", present.size)
        body = b"".join([packed[r] for r in present.tolist()])
        if present.size == 1:
            return header + body, 1, np.zeros(entry.size, dtype=np.int64)
        lookup = np.empty(len(packed), dtype=np.int64)
        lookup[present] = np.arange(present.size)
        return header + body, int(present.size), lookup[ranks[entry]]


_KEY_TABLES: list[KeyTable] = []


def key_table(site_keys: Sequence[str], point_keys: Sequence[str]) -> KeyTable:
    """The :class:`KeyTable` of these key lists, cached by the lists' identity.

    Ingest hands the catalog's own lists over with every batch until a new site model is
    loaded; the lists must not be changed in place.
    """
    for table in _KEY_TABLES:
        if table.site_keys is site_keys and table.point_keys is point_keys:
            if table.size == len(point_keys):
                return table
    table = KeyTable(site_keys, point_keys)
    _KEY_TABLES[:] = [table, *_KEY_TABLES[:3]]
    return table


def encode_coded(
    entry: np.ndarray,
    keys: KeyTable,
    ts_us: np.ndarray,
    values: np.ndarray,
    quality_parts: Sequence[Sequence[str]],
    versions: np.ndarray,
) -> bytes:
    """:func:`encode_readings` of readings whose site and point are integer codes.

    Row ``i`` is the site ``keys.site_keys[entry[i]]`` and the point
    ``keys.point_keys[entry[i]]``; ``quality_parts`` concatenated is the quality column.
    The ingest hook's path: no Python string per reading. Gives the same bytes as the
    row form.
    """
    entry = np.asarray(entry, dtype=np.int64)
    n = entry.size
    if n == 0:
        return _EMPTY_RECORD
    if entry.min() < 0 or entry.max() >= keys.size:
        raise InputError("a point code is outside the key table", field="rows")
    present = np.zeros(keys.size, dtype=bool)
    present[entry] = True
    used = np.flatnonzero(present)
    return _encode_numeric(
        keys.dictionary(entry, used, site=True),
        keys.dictionary(entry, used, site=False),
        ts_us,
        values,
        quality_parts,
        versions,
    )


#: A string column ready for the record: packed dictionary, its size, the row indices.
_Column = tuple[bytes, int, np.ndarray]


def _encode_numeric(
    site: _Column,
    point: _Column,
    ts_us: np.ndarray,
    values: np.ndarray,
    quality_parts: Sequence[Sequence[str]],
    versions: np.ndarray,
) -> bytes:
    """Dictionaries of the numeric and quality columns, then :func:`_encode`."""
    n = site[2].size
    ts_table, ts_index = _unique_inverse(np.asarray(ts_us, dtype=np.int64))
    version_values, version_index = _unique_inverse(np.asarray(versions))
    value = np.asarray(values, dtype=np.float64)
    if ts_index.size != n or version_index.size != n or value.size != n:
        raise InputError("reading columns differ in length", field="rows")
    distinct = set().union(*quality_parts)
    if len(distinct) == 1:
        quality_table, quality = list(distinct), np.zeros(n, dtype=np.int64)
    else:
        quality_table = sorted(distinct)
        lookup = {flag: i for i, flag in enumerate(quality_table)}
        flags = itertools.chain.from_iterable(quality_parts)
        quality = np.fromiter(map(lookup.__getitem__, flags), dtype=np.int64, count=n)
    return _encode(
        site,
        point,
        ts_table,
        ts_index,
        value,
        (_pack_strings(quality_table), len(quality_table), quality),
        [int(v) for v in version_values.tolist()],
        version_index,
    )


def _encode(
    site: _Column,
    point: _Column,
    ts_table: np.ndarray,
    ts: np.ndarray,
    value: np.ndarray,
    quality: _Column,
    version_table: list[Any],
    version: np.ndarray,
) -> bytes:
    n = len(ts)
    if not np.isfinite(value).all():
        raise InputError("a reading value is NaN or infinite", field="rows")
    if not all(isinstance(v, int) for v in version_table):
        raise InputError("a reading version is not an integer", field="rows")
    if version_table[0] < 0 or version_table[-1] >= 2**32:
        raise InputError("a reading version is outside 0 … 2³²-1", field="rows")
    order = _canonical_order(
        (site[2], point[2], ts, version, value, quality[2]),
        (site[1], point[1], len(ts_table), len(version_table)),
    )
    parts = [
        READINGS_MAGIC,
        struct.pack(">I", n),
        site[0],
        point[0],
        struct.pack(">I", len(ts_table)) + ts_table.astype(">i8").tobytes(),
        quality[0],
        struct.pack(f">I{len(version_table)}I", len(version_table), *version_table),
    ]
    for column, table_size in (
        (site[2], site[1]),
        (point[2], point[1]),
        (ts, len(ts_table)),
        (quality[2], quality[1]),
        (version, len(version_table)),
    ):
        width = _width(table_size)
        if width is not None:
            parts.append((column if order is None else column[order]).astype(width).tobytes())
    parts.append((value if order is None else value[order]).astype(">f8").tobytes())
    return b"".join(parts)


_EMPTY_RECORD = READINGS_MAGIC + struct.pack(">IIIIII", 0, 0, 0, 0, 0, 0)


def _unpack_strings(body: bytes, offset: int) -> tuple[list[str], int]:
    (count,) = struct.unpack_from(">I", body, offset)
    offset += 4
    table = []
    for _ in range(count):
        (length,) = struct.unpack_from(">H", body, offset)
        table.append(body[offset + 2 : offset + 2 + length].decode("utf-8"))
        offset += 2 + length
    return table, offset


def _unpack_numbers(body: bytes, offset: int, dtype: str) -> tuple[list[int], int]:
    (count,) = struct.unpack_from(">I", body, offset)
    offset += 4
    values = np.frombuffer(body, dtype=dtype, count=count, offset=offset).tolist()
    return values, offset + count * np.dtype(dtype).itemsize


def decode_readings(body: bytes) -> list[Record]:
    """Records of a ``tansuan-readings-v1`` body, in canonical order."""
    try:
        if body[:8] != READINGS_MAGIC:
            raise ValueError("wrong magic")
        (n,) = struct.unpack_from(">I", body, 8)
        sites, offset = _unpack_strings(body, 12)
        points, offset = _unpack_strings(body, offset)
        stamps, offset = _unpack_numbers(body, offset, ">i8")
        qualities, offset = _unpack_strings(body, offset)
        versions, offset = _unpack_numbers(body, offset, ">u4")
        columns: list[list[Any]] = []
        for table in (sites, points, stamps, qualities, versions):
            width = _width(len(table))
            if width is None:
                columns.append(table * n if table else [])
                continue
            index = np.frombuffer(body, dtype=width, count=n, offset=offset)
            offset += n * np.dtype(width).itemsize
            columns.append([table[i] for i in index.tolist()])
        value = np.frombuffer(body, dtype=">f8", count=n, offset=offset).tolist()
        offset += 8 * n
        if offset != len(body):
            raise ValueError("trailing bytes")
        site, point, ts, quality, version = columns
        return [
            Record(s, p, t, v, q, ver)
            for s, p, t, v, q, ver in zip(site, point, ts, value, quality, version, strict=True)
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
