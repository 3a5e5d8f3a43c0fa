"""Check an offline verification pack (``tansuan-pack-v1``, docs/ledger.md).

This module is the pack's ``check.py``: ``tansuan pack`` copies this file into the pack
unchanged, and ``tansuan verify --pack`` imports it — one implementation. It therefore
imports nothing of tansuan: the Python standard library plus one package from PyPI,
``cryptography`` (Ed25519 signatures of the tree heads and sign-offs)::

    python -m pip install cryptography
    python check.py pack.zip

It checks, on a machine without tansuan's database:

1. every member's SHA-256 and size against ``manifest.json`` (a missing, extra or
   changed member is named);
2. every tree head's Ed25519 signature under ``public_key.pem`` (RFC 6962 §3.5 signed
   bytes) and an RFC 9162 consistency proof from each head to the latest;
3. every leaf's hash from its kind, ref and payload, and its RFC 9162 inclusion proof
   against the latest head;
4. the data against the leaves: the readings CSV ↔ the readings records ↔ the
   ``ingest_batch`` leaves; the manual-entry CSV ↔ ``manual_entry`` leaves; the result
   sets, lines and traces ↔ ``emission_result`` leaves; the evidence files ↔
   ``evidence`` leaves;
5. the verifiers' sign-offs: the Ed25519 signature over the exact statement, the
   statement against its leaf, the key against the one registered on the grant before
   (its ``grant_key`` leaf), and the signed root by consistency proof to the latest head;
6. the annual totals (per source, gas and scope, and in CO2e) recomputed from the bound
   monthly lines of the current versions.

It prints each check and ends with "pack holds / 核查包完整", or names every problem
(member, leaf, month) and exits 1 (2 when the pack cannot be read at all).
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import io
import json
import struct
import sys
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

PACK_FORMAT = "tansuan-pack-v1"
MANIFEST = "manifest.json"
PUBLIC_KEY = "public_key.pem"
STHS = "sths.jsonl"
LEAVES = "leaves.jsonl"
PROOFS = "proofs.jsonl"
CONSISTENCY = "consistency.jsonl"
READINGS_CSV = "readings/readings.csv"
RECORDS = "readings/records.bin"
MANUAL_CSV = "manual/entries.csv"
SETS_CSV = "results/sets.csv"
LINES_CSV = "results/lines.csv"
TRACES = "results/traces/"
ANNUAL_CSV = "results/annual.csv"
EVIDENCE = "evidence/"

READINGS_HEADER = ["batch_id", "site", "point", "ts", "value", "quality", "version"]
MANUAL_HEADER = [
    "site",
    "series",
    "period_start",
    "period_end",
    "document_ref",
    "version",
    "current",
    "value",
    "attrs",
    "batch_id",
    "entered_at_us",
    "site_id",
    "series_id",
]
SETS_HEADER = [
    "set_id",
    "site",
    "source",
    "period",
    "version",
    "status",
    "state",
    "counted",
    "method",
    "inputs_digest",
]
LINES_HEADER = ["set_id", "gas", "scope", "mass_g", "co2e_g"]
ANNUAL_HEADER = ["source", "gas", "scope", "mass_g", "co2e_g", "mass_t", "co2e_t"]
#: The ``source`` (and gas, scope) of the rows that total over all sources.
ALL = "*"

READINGS_MAGIC = b"TSRDG\x00\x00\x01"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)
#: The fields of a manual_entry leaf that are stored columns (compared with the CSV).
_ENTRY_FIELDS = (
    "site",
    "series",
    "period_start",
    "period_end",
    "document_ref",
    "version",
    "value",
    "attrs",
    "batch_id",
    "entered_at_us",
    "site_id",
    "series_id",
)


# ---------------------------------------------------------------- RFC 6962 / 9162


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 ‖ data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 ‖ left ‖ right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def envelope(kind: str, ref: str, payload_text: str) -> bytes:
    """The leaf data: canonical JSON of ``{"kind", "payload", "ref", "v": 1}`` with the
    payload's stored canonical text (keys are already in code-point order)."""
    return (
        f'{{"kind":{json.dumps(kind, ensure_ascii=False)},"payload":{payload_text},'
        f'"ref":{json.dumps(ref, ensure_ascii=False)},"v":1}}'
    ).encode()


def verify_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2; ``leaf`` is the leaf hash."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2."""
    if not 0 <= first <= second:
        return False
    if first == 0:
        return not proof and first_root == hashlib.sha256(b"").digest()
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


def signed_bytes(tree_size: int, timestamp_ms: int, root: bytes) -> bytes:
    """RFC 6962 §3.5 TreeHeadSignature: version 0, type 1, timestamp, size, root."""
    return struct.pack(">BBQQ", 0, 1, timestamp_ms, tree_size) + root


# ---------------------------------------------------------------- readings records


def us_to_iso(us: int) -> str:
    """``1767225600000000`` → ``2026-01-01T00:00:00Z`` (fraction shown when non-zero)."""
    ts = _EPOCH + dt.timedelta(microseconds=us)
    text = ts.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{ts.microsecond:06d}Z" if ts.microsecond else f"{text}Z"


def iso_to_us(text: str) -> int:
    ts = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if ts.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no time zone")
    return (ts - _EPOCH) // _MICROSECOND


def decode_record(body: bytes) -> list[tuple[str, str, int, float, str, int]]:
    """The readings of a ``tansuan-readings-v1`` record (docs/ledger.md), as
    ``(site, point, ts_us, value, quality, version)``."""
    if body[:8] != READINGS_MAGIC:
        raise ValueError("wrong magic")
    (n,) = struct.unpack_from(">I", body, 8)
    offset = 12

    def strings() -> list[str]:
        nonlocal offset
        (count,) = struct.unpack_from(">I", body, offset)
        offset += 4
        table = []
        for _ in range(count):
            (length,) = struct.unpack_from(">H", body, offset)
            table.append(body[offset + 2 : offset + 2 + length].decode("utf-8"))
            offset += 2 + length
        return table

    def numbers(code: str, size: int) -> list[Any]:
        nonlocal offset
        (count,) = struct.unpack_from(">I", body, offset)
        values = list(struct.unpack_from(f">{count}{code}", body, offset + 4))
        offset += 4 + count * size
        return values

    sites = strings()
    points = strings()
    stamps = numbers("q", 8)
    qualities = strings()
    versions = numbers("I", 4)
    columns: list[list[Any]] = []
    for table in (sites, points, stamps, qualities, versions):
        count = len(table)
        if count <= 1:
            columns.append(table * n)
            continue
        code, size = ("B", 1) if count <= 1 << 8 else ("H", 2) if count <= 1 << 16 else ("I", 4)
        index = struct.unpack_from(f">{n}{code}", body, offset)
        offset += n * size
        columns.append([table[i] for i in index])
    values = struct.unpack_from(f">{n}d", body, offset)
    offset += 8 * n
    if offset != len(body):
        raise ValueError("trailing bytes")
    site, point, ts, quality, version = columns
    return list(zip(site, point, ts, values, quality, version, strict=True))


# ---------------------------------------------------------------- the report


@dataclass(frozen=True)
class Problem:
    """One thing in the pack that does not hold: where (member, leaf, month) and what."""

    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.where}: {self.detail}"


@dataclass
class PackReport:
    """What was checked (``checked``: one line per check) and every problem found."""

    checked: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    annual: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, where: str, detail: str) -> None:
        self.problems.append(Problem(where, detail))

    def lines(self) -> list[str]:
        out = [f"✓ {line}" for line in self.checked]
        out += [f"✗ {problem}" for problem in self.problems]
        if self.ok:
            out.append("核查包完整 / pack holds")
        else:
            out.append(f"核查包不完整 / pack does not hold: {len(self.problems)} 处问题 problem(s)")
        return out


def _unb64(text: Any) -> bytes:
    return base64.b64decode(str(text), validate=True)


def _hex_or_b64(text: Any) -> bytes:
    text = str(text)
    if len(text) == 64 and all(c in "0123456789abcdefABCDEF" for c in text):
        return bytes.fromhex(text)
    return _unb64(text)


class _Pack:
    """The members of the zip, read once each (a member whose bytes fail the zip's own
    CRC is reported and read as missing)."""

    def __init__(self, archive: zipfile.ZipFile, report: PackReport) -> None:
        self.archive = archive
        self.report = report
        self.names = [i.filename for i in archive.infolist() if not i.is_dir()]
        self._cache: dict[str, bytes | None] = {}

    def read(self, name: str) -> bytes | None:
        if name in self._cache:
            return self._cache[name]
        data: bytes | None
        if name not in self.names:
            data = None
        else:
            try:
                data = self.archive.read(name)
            except (zipfile.BadZipFile, OSError, ValueError) as error:
                self.report.problem(name, f"cannot be read from the zip ({error})")
                data = None
        self._cache[name] = data
        return data

    def text(self, name: str, *, required: bool = True) -> str | None:
        data = self.read(name)
        if data is None:
            if required:
                self.report.problem(name, "missing from the pack / 文件缺失")
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as error:
            self.report.problem(name, f"not UTF-8 ({error})")
            return None

    def jsonl(self, name: str) -> Iterator[tuple[int, dict[str, Any]]]:
        text = self.text(name)
        if text is None:
            return
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
            except ValueError as error:
                self.report.problem(f"{name}:{number}", f"not JSON ({error})")
                continue
            if not isinstance(doc, dict):
                self.report.problem(f"{name}:{number}", "not a JSON object")
                continue
            yield number, doc

    def csv_rows(self, name: str, header: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
        text = self.text(name)
        if text is None:
            return
        reader = csv.reader(io.StringIO(text, newline=""))
        first = next(reader, None)
        if first != header:
            self.report.problem(name, f"header {first} is not {header}")
            return
        for number, row in enumerate(reader, start=2):
            if len(row) != len(header):
                self.report.problem(f"{name}:{number}", f"{len(row)} columns, not {len(header)}")
                continue
            yield number, dict(zip(header, row, strict=True))


# ---------------------------------------------------------------- the checks


def _check_manifest(pack: _Pack, report: PackReport) -> dict[str, Any] | None:
    text = pack.text(MANIFEST)
    if text is None:
        return None
    try:
        manifest = json.loads(text)
        files = manifest["files"]
        if manifest.get("format") != PACK_FORMAT or not isinstance(files, dict):
            raise ValueError(f"not a {PACK_FORMAT} manifest")
    except (ValueError, KeyError, TypeError) as error:
        report.problem(MANIFEST, f"not a {PACK_FORMAT} manifest ({error})")
        return None
    bad = 0
    for name in sorted(set(files) | set(pack.names) - {MANIFEST}):
        entry = files.get(name)
        data = pack.read(name)
        if entry is None:
            report.problem(name, "in the zip but not in the manifest / 清单外的文件")
        elif data is None:
            report.problem(name, "listed in the manifest but missing / 文件缺失")
        elif hashlib.sha256(data).hexdigest() != entry.get("sha256"):
            report.problem(
                name,
                f"SHA-256 {hashlib.sha256(data).hexdigest()} differs from the manifest's "
                f"{entry.get('sha256')} / 文件被修改",
            )
        elif len(data) != entry.get("bytes"):
            report.problem(name, f"{len(data)} bytes, manifest says {entry.get('bytes')}")
        else:
            continue
        bad += 1
    if not bad:
        report.checked.append(f"清单 manifest: {len(files)} 个文件摘要一致 files match SHA-256")
    return dict(manifest)


@dataclass(frozen=True)
class _Head:
    tree_size: int
    timestamp_ms: int
    root: bytes
    signature: bytes
    key_id: bytes
    line: int


def _load_public_key(pack: _Pack, report: PackReport) -> tuple[Any, bytes] | None:
    # deferred: main() says how to install cryptography when it is missing
    from cryptography.hazmat.primitives import serialization

    # deferred: main() says how to install cryptography when it is missing
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    pem = pack.read(PUBLIC_KEY)
    if pem is None:
        report.problem(PUBLIC_KEY, "missing from the pack / 公钥缺失")
        return None
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as error:
        report.problem(PUBLIC_KEY, f"not a PEM public key ({error})")
        return None
    if not isinstance(key, Ed25519PublicKey):
        report.problem(PUBLIC_KEY, "not an Ed25519 key")
        return None
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return key, hashlib.sha256(der).digest()


def _ed25519_ok(key: Any, signature: bytes, message: bytes) -> bool:
    # deferred: main() says how to install cryptography when it is missing
    from cryptography.exceptions import InvalidSignature

    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def _check_heads(pack: _Pack, report: PackReport, key: tuple[Any, bytes] | None) -> _Head | None:
    """Every head's signature and consistency to the latest; the latest head."""
    heads: list[_Head] = []
    for number, doc in pack.jsonl(STHS):
        try:
            head = _Head(
                int(doc["tree_size"]),
                int(doc["timestamp"]),
                _unb64(doc["sha256_root_hash"]),
                _unb64(doc["tree_head_signature"]),
                _unb64(doc.get("key_id", "")),
                number,
            )
        except (KeyError, ValueError, TypeError) as error:
            report.problem(f"{STHS}:{number}", f"not a signed tree head ({error!r})")
            continue
        heads.append(head)
    if not heads:
        report.problem(STHS, "no signed tree head in the pack / 没有树头")
        return None
    bad = 0
    if key is not None:
        public_key, key_id = key
        for head in heads:
            where = f"{STHS}:{head.line} (tree head size {head.tree_size})"
            if head.key_id != key_id:
                report.problem(where, "names another key than public_key.pem / 签名密钥不符")
                bad += 1
            elif not _ed25519_ok(
                public_key,
                head.signature,
                signed_bytes(head.tree_size, head.timestamp_ms, head.root),
            ):
                report.problem(where, "signature does not verify / 树头签名无效")
                bad += 1
    latest = max(heads, key=lambda h: (h.tree_size, h.timestamp_ms))
    proofs: dict[int, list[bytes]] = {}
    for number, doc in pack.jsonl(CONSISTENCY):
        try:
            if int(doc["second"]) == latest.tree_size:
                proofs[int(doc["first"])] = [_unb64(h) for h in doc["consistency"]]
        except (KeyError, ValueError, TypeError) as error:
            report.problem(f"{CONSISTENCY}:{number}", f"not a consistency proof ({error!r})")
    for head in heads:
        if head is latest or head.tree_size == 0:
            continue
        proof = proofs.get(head.tree_size)
        if proof is None or not verify_consistency(
            head.tree_size, latest.tree_size, head.root, latest.root, proof
        ):
            what = "no consistency proof" if proof is None else "consistency proof fails"
            report.problem(
                f"{STHS}:{head.line} (tree head size {head.tree_size})",
                f"{what} to the latest head (size {latest.tree_size}) / 树头不一致",
            )
            bad += 1
    if not bad:
        report.checked.append(
            f"树头 tree heads: {len(heads)} 个签名有效且一致 signatures valid and consistent, "
            f"latest size {latest.tree_size}"
        )
    return latest


@dataclass(frozen=True)
class _Leaf:
    index: int
    kind: str
    ref: str
    payload: dict[str, Any]
    doc: dict[str, Any]

    @property
    def name(self) -> str:
        return f"leaf {self.index} ({self.kind} {self.ref})"


def _check_leaves(pack: _Pack, report: PackReport, latest: _Head | None) -> list[_Leaf]:
    """Every leaf's hash and inclusion proof; the leaves whose hash holds."""
    proofs: dict[int, tuple[int, list[bytes]]] = {}
    for number, doc in pack.jsonl(PROOFS):
        try:
            proofs[int(doc["leaf_index"])] = (
                int(doc["tree_size"]),
                [_unb64(h) for h in doc["audit_path"]],
            )
        except (KeyError, ValueError, TypeError) as error:
            report.problem(f"{PROOFS}:{number}", f"not an inclusion proof ({error!r})")
    leaves: list[_Leaf] = []
    bad = 0
    for number, doc in pack.jsonl(LEAVES):
        try:
            index, kind, ref = int(doc["leaf_index"]), str(doc["kind"]), str(doc["ref"])
            text = str(doc["payload"])
            stored = _unb64(doc["leaf_hash"])
            payload = json.loads(text)
        except (KeyError, ValueError, TypeError) as error:
            report.problem(f"{LEAVES}:{number}", f"not a leaf ({error!r})")
            bad += 1
            continue
        leaf = _Leaf(index, kind, ref, payload, doc)
        computed = leaf_hash(envelope(kind, ref, text))
        if computed != stored:
            report.problem(f"{LEAVES}:{number} {leaf.name}", "leaf hash does not match its data")
            bad += 1
            continue
        if latest is not None:
            proof = proofs.get(index)
            if proof is None:
                report.problem(f"{PROOFS} {leaf.name}", "no inclusion proof / 缺少包含证明")
                bad += 1
                continue
            size, path = proof
            if size != latest.tree_size or not verify_inclusion(
                index, size, computed, path, latest.root
            ):
                report.problem(
                    f"{PROOFS} {leaf.name}",
                    f"inclusion proof fails against the latest head (size {latest.tree_size}) "
                    "/ 包含证明无效",
                )
                bad += 1
                continue
        leaves.append(leaf)
    if not bad:
        report.checked.append(
            f"叶子 leaves: {len(leaves)} 个哈希与包含证明成立 hashes and inclusion proofs hold"
        )
    return leaves


def _check_readings(pack: _Pack, report: PackReport, leaves: list[_Leaf]) -> None:
    records = pack.read(RECORDS)
    batches = [leaf for leaf in leaves if leaf.kind == "ingest_batch"]
    if records is None and batches:
        report.problem(RECORDS, "missing from the pack / 读数记录缺失")
        return
    csv_batches: dict[int, dict[tuple[str, str, int, int], tuple[float, str, int]]] = defaultdict(
        dict
    )
    stamps: dict[str, int] = {}  # each instant parsed once
    text = pack.text(READINGS_CSV)
    reader: Iterator[list[str]] = csv.reader(io.StringIO(text or "", newline=""))
    header = next(reader, None)
    if text is not None and header != READINGS_HEADER:
        report.problem(READINGS_CSV, f"header {header} is not {READINGS_HEADER}")
        reader = iter(())
    for number, row in enumerate(reader, start=2):
        try:
            batch_text, site_text, point_text, stamp, value_text, flag, version_text = row
            at = stamps.get(stamp)
            if at is None:
                at = stamps[stamp] = iso_to_us(stamp)
            csv_batches[int(batch_text)][(site_text, point_text, at, int(version_text))] = (
                float(value_text),
                flag,
                number,
            )
        except ValueError as error:
            report.problem(f"{READINGS_CSV}:{number}", f"not a reading ({error})")
    bad = n = 0
    logged: set[int] = set()
    for leaf in batches:
        batch_id = int(leaf.payload.get("batch_id", -1))
        logged.add(batch_id)
        where = f"batch {batch_id} ({leaf.name})"
        try:
            offset, length = int(leaf.doc["record_offset"]), int(leaf.doc["record_bytes"])
        except (KeyError, ValueError, TypeError):
            report.problem(f"{LEAVES} {where}", "no readings record named / 无读数记录")
            bad += 1
            continue
        body = (records or b"")[offset : offset + length]
        if hashlib.sha256(body).hexdigest() != leaf.payload.get("readings_sha256"):
            report.problem(f"{RECORDS} {where}", "record does not match the leaf's SHA-256")
            bad += 1
            continue
        try:
            record = decode_record(body)
        except (ValueError, struct.error, UnicodeDecodeError) as error:
            report.problem(f"{RECORDS} {where}", f"not a readings record ({error})")
            bad += 1
            continue
        in_csv = csv_batches.pop(batch_id, {})
        n += len(record)
        for site, point, ts, value, quality, version in record:
            found = in_csv.pop((site, point, ts, version), None)
            if (
                found is not None
                and found[0] == value
                and found[1] == quality
                and (value != 0 or str(found[0]) == str(value))  # -0.0 is not 0.0
            ):
                continue
            name = f"{READINGS_CSV} {where} reading {site}/{point} {us_to_iso(ts)} v{version}"
            if found is None:
                report.problem(name, f"missing (signed value {value!r} {quality}) / 读数被删除")
            else:
                report.problem(
                    f"{name} (line {found[2]})",
                    f"{value!r} {quality} → {found[0]!r} {found[1]} / 读数被修改",
                )
            bad += 1
        for (site, point, ts, version), (value, quality, line) in sorted(in_csv.items()):
            report.problem(
                f"{READINGS_CSV}:{line} {where} reading {site}/{point} {us_to_iso(ts)} v{version}",
                f"{value!r} {quality} is not in the signed record / 读数被添加",
            )
            bad += 1
    for batch_id, rows in sorted(csv_batches.items()):
        lines = sorted(line for _, _, line in rows.values())
        report.problem(
            f"{READINGS_CSV}:{lines[0]}",
            f"batch {batch_id}: {len(rows)} reading(s) no leaf in the pack signs / 批次未记入账本",
        )
        bad += 1
    if not bad:
        report.checked.append(
            f"读数 readings: {n} 条读数、{len(batches)} 个批次与记录和叶子一致 "
            "match their records and leaves"
        )


def _entry_key(values: dict[str, Any]) -> tuple[str, ...]:
    return tuple(
        str(values[k])
        for k in ("site", "series", "period_start", "period_end", "document_ref", "version")
    )


def _check_manual(pack: _Pack, report: PackReport, leaves: list[_Leaf]) -> None:
    signed = {_entry_key(leaf.payload): leaf for leaf in leaves if leaf.kind == "manual_entry"}
    bad = n = 0
    seen: set[tuple[str, ...]] = set()
    versions: dict[tuple[str, ...], list[tuple[int, bool]]] = defaultdict(list)
    for number, row in pack.csv_rows(MANUAL_CSV, MANUAL_HEADER):
        n += 1
        key = _entry_key(row)
        seen.add(key)
        versions[key[:-1]].append((_int(row["version"]), row["current"] == "1"))
        name = (
            f"{MANUAL_CSV}:{number} manual entry {row['site']}/{row['series']} "
            f"{row['period_start']}–{row['period_end']} {row['document_ref']!r} v{row['version']}"
        )
        leaf = signed.get(key)
        if leaf is None:
            report.problem(name, "no manual_entry leaf signs it / 手工数据未记入账本")
            bad += 1
            continue
        changed = []
        for column in _ENTRY_FIELDS:
            logged = leaf.payload.get(column)
            if column == "value":
                same = logged is not None and _float(row[column]) == float(logged)
            else:
                same = row[column] == str(logged)
            if not same:
                changed.append(f"{column} {logged!r} → {row[column]!r}")
        if changed:
            report.problem(name, f"differs from {leaf.name}: {'; '.join(changed)} / 手工数据被修改")
            bad += 1
    for key, leaf in sorted(signed.items()):
        if key not in seen:
            report.problem(
                f"{MANUAL_CSV} {leaf.name}",
                "the logged entry is missing from the CSV / 手工数据被删除",
            )
            bad += 1
    for (site, series, start, end, document), found in sorted(versions.items()):
        current = sorted(v for v, is_current in found if is_current)
        if current != [max(v for v, _ in found)]:
            report.problem(
                f"{MANUAL_CSV} manual entry {site}/{series} {start}–{end} {document!r}",
                f"current version(s) {current}, expected only v{max(v for v, _ in found)} "
                "/ 手工数据当前版本不符",
            )
            bad += 1
    if not bad:
        report.checked.append(f"手工数据 manual entries: {n} 条与叶子一致 match their leaves")


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return -1


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _check_results(pack: _Pack, report: PackReport, leaves: list[_Leaf]) -> None:
    by_set = {
        int(leaf.payload["result_set"]): leaf for leaf in leaves if leaf.kind == "emission_result"
    }
    lines: dict[int, list[list[Any]]] = defaultdict(list)
    for number, row in pack.csv_rows(LINES_CSV, LINES_HEADER):
        try:
            lines[int(row["set_id"])].append(
                [row["gas"], row["scope"], int(row["mass_g"]), int(row["co2e_g"])]
            )
        except ValueError as error:
            report.problem(f"{LINES_CSV}:{number}", f"not a result line ({error})")
    bad = n = 0
    current: dict[tuple[str, str], list[tuple[dict[str, str], list[list[Any]]]]] = defaultdict(list)
    seen: set[int] = set()
    for number, row in pack.csv_rows(SETS_CSV, SETS_HEADER):
        n += 1
        name = f"result {row['site']}/{row['source']} {row['period']} v{row['version']}"
        try:
            set_id = int(row["set_id"])
        except ValueError:
            report.problem(f"{SETS_CSV}:{number}", f"bad set id {row['set_id']!r}")
            bad += 1
            continue
        seen.add(set_id)
        where = f"{SETS_CSV}:{number} {name} (set {set_id})"
        leaf = by_set.get(set_id)
        set_lines = sorted(lines.pop(set_id, []))
        if leaf is None:
            report.problem(where, "no emission_result leaf signs it / 核算结果未记入账本")
            bad += 1
            continue
        p = leaf.payload
        differs = [
            f"{column} {p.get(key)!r} → {row[column]!r}"
            for column, key in (
                ("site", "site"),
                ("source", "source"),
                ("period", "period"),
                ("version", "version"),
                ("method", "method"),
                ("inputs_digest", "inputs_digest"),
            )
            if row[column] != str(p.get(key))
        ]
        if row["state"] != p.get("state", "computed"):
            differs.append(f"state {p.get('state', 'computed')!r} → {row['state']!r}")
        if differs:
            report.problem(
                where, f"differs from {leaf.name}: {'; '.join(differs)} / 核算结果与叶子不符"
            )
            bad += 1
        signed_lines = sorted(p.get("lines", []))
        if set_lines != signed_lines:
            report.problem(
                f"{LINES_CSV} {name} (set {set_id})",
                f"lines {set_lines} differ from the signed {signed_lines} / 核算结果行被修改",
            )
            bad += 1
        trace = pack.read(f"{TRACES}{set_id}.json")
        if trace is None:
            report.problem(f"{TRACES}{set_id}.json", f"trace of {name} missing / 追溯记录缺失")
            bad += 1
        elif "trace_sha256" in p and hashlib.sha256(trace).hexdigest() != p["trace_sha256"]:
            report.problem(
                f"{TRACES}{set_id}.json",
                f"trace of {name} differs from {leaf.name} / 追溯记录被修改",
            )
            bad += 1
        if row["status"] == "current" and row["counted"] == "1" and row["state"] == "computed":
            current[(row["source"], row["period"])].append((row, signed_lines))
    for set_id, leaf in sorted(by_set.items()):
        if set_id not in seen:
            report.problem(
                f"{SETS_CSV} {leaf.name}", "the logged result set is missing / 核算结果被删除"
            )
            bad += 1
    for set_id in sorted(lines):
        report.problem(f"{LINES_CSV}", f"lines of set {set_id}, which is not in sets.csv")
        bad += 1
    for (source, period), sets in sorted(current.items()):
        if len(sets) > 1:
            versions = sorted(row["version"] for row, _ in sets)
            report.problem(
                f"{SETS_CSV} {source} {period}",
                f"versions {versions} all marked current / 伪造的当前版本",
            )
            bad += 1
    if not bad:
        report.checked.append(
            f"核算结果 results: {n} 个结果版本的行与追溯记录与叶子一致 "
            "lines and traces match their leaves"
        )
    _check_annual(pack, report, current)


def _check_annual(
    pack: _Pack,
    report: PackReport,
    current: dict[tuple[str, str], list[tuple[dict[str, str], list[list[Any]]]]],
) -> None:
    """Sum the signed lines of the current versions per source, gas and scope, per gas and
    scope over all sources, and in CO2e over everything; compare with annual.csv."""
    sums: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for (source, _), sets in current.items():
        for _, set_lines in sets[:1]:
            for gas, scope, mass_g, co2e_g in set_lines:
                for key in ((source, gas, scope), (ALL, gas, scope), (ALL, ALL, ALL)):
                    sums[key][0] += 0 if key[1] == ALL else int(mass_g)
                    sums[key][1] += int(co2e_g)
    stated: dict[tuple[str, str, str], tuple[int, int, int]] = {}
    for number, row in pack.csv_rows(ANNUAL_CSV, ANNUAL_HEADER):
        try:
            stated[(row["source"], row["gas"], row["scope"])] = (
                int(row["mass_g"]),
                int(row["co2e_g"]),
                number,
            )
        except ValueError as error:
            report.problem(f"{ANNUAL_CSV}:{number}", f"not an annual line ({error})")
    bad = 0
    for key in sorted(set(sums) | set(stated)):
        mine = sums.get(key)
        theirs = stated.get(key)
        label = "total CO2e" if key == (ALL, ALL, ALL) else "/".join(key)
        if theirs is None:
            report.problem(ANNUAL_CSV, f"{label}: recomputed {mine} g is not stated / 年度合计缺失")
        elif mine is None:
            report.problem(
                f"{ANNUAL_CSV}:{theirs[2]}", f"{label}: stated but no current line adds up to it"
            )
        elif (mine[0], mine[1]) != theirs[:2]:
            report.problem(
                f"{ANNUAL_CSV}:{theirs[2]}",
                f"{label}: stated mass {theirs[0]} g, CO2e {theirs[1]} g; the signed monthly "
                f"lines add up to {mine[0]} g, {mine[1]} g / 年度合计不符",
            )
        else:
            continue
        bad += 1
    total = sums.get((ALL, ALL, ALL), [0, 0])[1]
    report.annual = [
        {"source": k[0], "gas": k[1], "scope": k[2], "mass_g": v[0], "co2e_g": v[1]}
        for k, v in sorted(sums.items())
    ]
    if not bad:
        report.checked.append(
            f"年度合计 annual totals: {len(sums)} 行由已签名月度结果复算一致 reproduced from "
            f"the signed monthly lines — {total / 1e6:.6f} tCO2e"
        )


def _check_evidence(pack: _Pack, report: PackReport, leaves: list[_Leaf]) -> None:
    bad = n = 0
    for leaf in leaves:
        if leaf.kind != "evidence":
            continue
        n += 1
        digest = str(leaf.payload.get("sha256", ""))
        name = f"{EVIDENCE}{digest}"
        data = pack.read(name)
        if data is None:
            report.problem(f"{name} ({leaf.name})", "evidence file missing / 存证文件缺失")
            bad += 1
        elif hashlib.sha256(data).hexdigest() != digest:
            report.problem(
                f"{name} ({leaf.name})", "evidence file differs from its leaf / 存证文件被修改"
            )
            bad += 1
    listed = {
        f"{EVIDENCE}{leaf.payload.get('sha256')}" for leaf in leaves if leaf.kind == "evidence"
    }
    for name in pack.names:
        if name.startswith(EVIDENCE) and name not in listed:
            report.problem(name, "evidence file no leaf in the pack logs / 存证未记入账本")
            bad += 1
    if not bad:
        report.checked.append(f"存证 evidence: {n} 个文件与叶子一致 files match their leaves")


def _check_signoffs(
    pack: _Pack, report: PackReport, leaves: list[_Leaf], latest: _Head | None
) -> None:
    # deferred: main() says how to install cryptography when it is missing
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    proofs: dict[int, list[bytes]] = {}
    for _, doc in pack.jsonl(CONSISTENCY):
        try:
            proofs[int(doc["first"])] = [_unb64(h) for h in doc["consistency"]]
        except (KeyError, ValueError, TypeError):
            continue  # named by the tree-head check
    keys: dict[str, list[tuple[int, str]]] = defaultdict(list)  # grant → (leaf, key)
    for leaf in leaves:
        if leaf.kind == "grant_key":
            keys[str(leaf.payload.get("grant_id"))].append(
                (leaf.index, str(leaf.payload.get("public_key")))
            )
    bad = n = 0
    for leaf in leaves:
        if leaf.kind != "signoff":
            continue
        n += 1
        p = leaf.payload
        where = f"sign-off {p.get('site')} {p.get('period')} by {p.get('verifier')} ({leaf.name})"
        try:
            key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(str(p["public_key"])))
            signature = bytes.fromhex(str(p["signature"]))
            statement_text = str(p["statement"])
            statement = json.loads(statement_text)
            size, root = int(statement["tree_size"]), _hex_or_b64(statement["root_hash"])
        except (KeyError, ValueError, TypeError) as error:
            report.problem(where, f"not a sign-off ({error!r}) / 签核格式无效")
            bad += 1
            continue
        if not _ed25519_ok(key, signature, statement_text.encode("utf-8")):
            report.problem(where, "the verifier's signature does not verify / 签核签名无效")
            bad += 1
            continue
        if (statement.get("site"), statement.get("period")) != (p.get("site"), p.get("period")):
            report.problem(where, "the signed statement names another site or period")
            bad += 1
        registered = [k for i, k in sorted(keys[str(p.get("grant_id"))]) if i < leaf.index]
        if not registered:
            report.problem(
                where,
                f"no verifier key registered on grant {p.get('grant_id')} before it "
                "(grant_key leaf) / 授权未登记核查方公钥",
            )
            bad += 1
        elif registered[-1] != str(p["public_key"]):
            report.problem(
                where,
                f"signed with key {p['public_key']}, not the one registered on grant "
                f"{p.get('grant_id')} ({registered[-1]}) / 签核公钥与授权登记的不符",
            )
            bad += 1
        if latest is not None:
            proof = proofs.get(size)
            if (
                size > latest.tree_size
                or proof is None
                or not verify_consistency(size, latest.tree_size, root, latest.root, proof)
            ):
                report.problem(
                    where,
                    f"the signed tree (size {size}) is not consistent with the latest head "
                    f"(size {latest.tree_size}) / 签核的树与最新树头不一致",
                )
                bad += 1
    if not bad:
        report.checked.append(
            f"核查签核 sign-offs: {n} 个签名有效且与账本一致 signatures valid, trees consistent"
        )


def check_pack(path: str, *, progress: Callable[[str], None] | None = None) -> PackReport:
    """Run every check on the pack at ``path``; never raises for a bad pack (the report
    names the problem)."""
    report = PackReport()
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        report.problem(str(path), f"not a readable zip ({error}) / 无法读取核查包")
        return report
    with archive:
        pack = _Pack(archive, report)
        steps: list[tuple[str, Callable[[], Any]]] = []
        state: dict[str, Any] = {}
        steps.append(("manifest", lambda: state.update(manifest=_check_manifest(pack, report))))
        steps.append(("key", lambda: state.update(key=_load_public_key(pack, report))))
        steps.append(
            ("tree heads", lambda: state.update(latest=_check_heads(pack, report, state["key"])))
        )
        steps.append(
            ("leaves", lambda: state.update(leaves=_check_leaves(pack, report, state["latest"])))
        )
        steps.append(("readings", lambda: _check_readings(pack, report, state["leaves"])))
        steps.append(("manual entries", lambda: _check_manual(pack, report, state["leaves"])))
        steps.append(("results", lambda: _check_results(pack, report, state["leaves"])))
        steps.append(("evidence", lambda: _check_evidence(pack, report, state["leaves"])))
        steps.append(
            (
                "sign-offs",
                lambda: _check_signoffs(pack, report, state["leaves"], state["latest"]),
            )
        )
        for name, step in steps:
            if progress is not None:
                progress(name)
            step()
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """``python check.py pack.zip``: exit 0 when the pack holds, 1 when not, 2 on usage."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        sys.stderr.write("usage: python check.py pack.zip / 用法：python check.py 核查包.zip\n")
        return 2
    try:
        import cryptography  # noqa: F401  # deferred: only to test it is installed
    except ImportError:
        sys.stderr.write(
            "check.py needs the 'cryptography' package: python -m pip install cryptography\n"
            "check.py 需要 cryptography 包：python -m pip install cryptography\n"
        )
        return 2
    report = check_pack(args[0])
    sys.stdout.write("\n".join(report.lines()) + "\n")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
