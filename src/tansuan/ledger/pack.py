"""Write an offline verification pack of one site-year (``tansuan pack``, docs/ledger.md).

The pack is a zip a verifier checks with the pack's own ``check.py`` (this package's
:mod:`tansuan.ledger.pack_check`, copied in unchanged) on a machine without tansuan's
database. Members (names are :mod:`~tansuan.ledger.pack_check` constants):

========================  ================================================================
``manifest.json``         format, site, year, when written, every other member's SHA-256
                          and size
``README.md``             what is in the pack and how to check it (zh-CN and en)
``check.py``              the standalone checker (standard library + ``cryptography``)
``public_key.pem``        the log's Ed25519 public key
``sths.jsonl``            every signed tree head up to the latest (the proofs' head)
``consistency.jsonl``     RFC 9162 consistency proofs from every earlier head, and from
                          every sign-off's tree, to the latest head
``leaves.jsonl``          the leaves the pack's data needs: ``leaf_index``, ``kind``,
                          ``ref``, ``payload`` (canonical JSON text as logged),
                          ``leaf_hash``; an ``ingest_batch`` leaf also ``record_offset`` /
                          ``record_bytes`` into ``readings/records.bin``
``proofs.jsonl``          the inclusion proof of each leaf against the latest head
``readings/records.bin``  the batches' signed readings records, one after another
``readings/readings.csv`` those batches' stored readings: batch_id, site, point, ts (ISO
                          8601 UTC), value (shortest round-trip decimal), quality, version
``manual/entries.csv``    every stored version of the site's manual entries of the year
``results/sets.csv``      every result version of the site's months, with status
``results/lines.csv``     their lines [g]
``results/traces/<id>.json``  each version's stored trace bytes
``results/annual.csv``    annual totals of the current versions: per source, gas and
                          scope; per gas and scope (source ``*``); CO2e (``*``/``*``/``*``)
``evidence/<sha256>``     the evidence files the ``evidence`` leaves log
========================  ================================================================

Which leaves: the ``ingest_batch`` leaves of every batch holding a reading of the site
in the year (cut in the site's time zone), the site's ``manual_entry``,
``emission_result``, ``filing``, ``proposal``, ``declaration``, ``evidence`` and
``signoff`` leaves of the year, and the ``grant`` and ``grant_key`` leaves of the grants
the sign-offs name.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, select

from tansuan.errors import InputError, LedgerError, NotFound
from tansuan.ledger import merkle, pack_check
from tansuan.ledger.canonical import us_to_iso
from tansuan.ledger.log import Ledger, latest_sth, tree_heads
from tansuan.ledger.signing import TreeHead, b64, public_key_pem
from tansuan.store import schema

#: The store's contract (as for verify): the stored rows of a batch.
BatchRows = Callable[[Connection, int], Sequence[tuple[str, str, dt.datetime, float, str, int]]]
#: Where evidence bytes come from: the file of a SHA-256 (hex), None when not found.
EvidenceBlob = Callable[[str], bytes | None]

#: Leaf kinds of the site-year carried with their leaves (besides batches and grants).
SITE_KINDS = (
    "manual_entry",
    "emission_result",
    "filing",
    "proposal",
    "declaration",
    "evidence",
    "signoff",
)
#: Leaves of the grants a sign-off names: the grant, the verifier key registered on it.
GRANT_KINDS = ("grant", "grant_key")
_CHUNK = 500

README = """# tansuan verification pack / 碳算核查包

Site / 站点: {site} — year / 年度: {year} — written / 生成于: {created}

## Check it / 校验

    python -m pip install cryptography
    python check.py pack.zip

`check.py` needs Python ≥ 3.11, its standard library and ONE package from PyPI,
`cryptography` (Ed25519 signatures). It needs no database and no tansuan.
`check.py` 只需 Python ≥ 3.11 标准库和 PyPI 上的一个包 `cryptography`（Ed25519 签名），
不需要数据库，也不需要安装碳算。

It checks every file's SHA-256 against `manifest.json`; every tree head's signature under
`public_key.pem` and its consistency with the latest head; every leaf's hash and its
inclusion proof; the readings CSV against the signed readings records; the manual entries,
results (lines, traces) and evidence files against their leaves; the verifiers'
sign-off signatures; and it recomputes the annual totals from the signed monthly lines.
It prints each check and "核查包完整 / pack holds", or names every problem and exits 1.

逐项校验：清单中每个文件的 SHA-256；每个树头的签名及其与最新树头的一致性；每个叶子的哈希与
包含证明；读数 CSV 与已签名读数记录；手工数据、核算结果（行与追溯记录）与存证文件与各自叶子；
核查机构签核签名；并由已签名的月度结果复算年度合计。全部成立时输出“核查包完整 / pack holds”，
否则逐条指出问题并以非零状态退出。

Compare the public key with the one the plant published (`tansuan ledger pubkey`), and
the latest tree head with your own copy if you hold one: the pack proves its contents
match the log that key signed, not who holds the key.
请将公钥与企业公布的公钥核对：核查包证明其内容与该密钥签名的账本一致。

## Files / 文件

{files}
"""


class _Zip:
    """A zip being written: each member's SHA-256 and size recorded for the manifest."""

    def __init__(self, path: Path) -> None:
        # level 1: a readings CSV deflates ~3× faster than at the default 6, ~15 % larger
        self.archive = zipfile.ZipFile(
            path, "w", zipfile.ZIP_DEFLATED, allowZip64=True, compresslevel=1
        )
        self.files: dict[str, dict[str, Any]] = {}

    def add(self, name: str, data: bytes, *, compress: bool = True) -> None:
        if compress:
            self.archive.writestr(name, data)
        else:
            self.archive.writestr(name, data, compress_type=zipfile.ZIP_STORED)
        self.files[name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}

    def stream(self, name: str, *, compress: bool = True) -> _Member:
        if compress:
            return _Member(self, name, self.archive.open(name, "w", force_zip64=True))
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_STORED
        return _Member(self, name, self.archive.open(info, "w", force_zip64=True))


class _Member:
    """One member written in pieces (text or bytes), hashed as it goes."""

    def __init__(self, owner: _Zip, name: str, handle: IO[bytes]) -> None:
        self.owner, self.name, self.handle = owner, name, handle
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes | str) -> int:
        raw = data.encode("utf-8") if isinstance(data, str) else data
        self.handle.write(raw)
        self.digest.update(raw)
        self.size += len(raw)
        return len(raw)

    def __enter__(self) -> _Member:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()
        self.owner.files[self.name] = {"sha256": self.digest.hexdigest(), "bytes": self.size}


def _csv_line(values: Iterable[Any]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue()


def _grams_to_t(grams: int) -> str:
    """Exact decimal tonnes of an integer mass in grams (10^6 g = 1 t)."""
    sign = "-" if grams < 0 else ""
    whole, part = divmod(abs(int(grams)), 10**6)
    return f"{sign}{whole}.{part:06d}"


def _site_zone(connection: Connection, site: str) -> tuple[int | None, ZoneInfo]:
    """The site's integer id (None when it has no point) and time zone."""
    p, s = schema.point, schema.series
    row = connection.execute(
        select(p.c.site_id, p.c.timezone).where(p.c.site_key == site).limit(1)
    ).first()
    if row is None:
        row = connection.execute(
            select(s.c.site_id, s.c.timezone).where(s.c.site_key == site).limit(1)
        ).first()
    if row is None:
        raise NotFound(f"站点不存在 / no site {site!r} in the store (load its model first)")
    return int(row.site_id), ZoneInfo(str(row.timezone))


def _year_bounds_us(year: int, zone: ZoneInfo) -> tuple[int, int]:
    start = dt.datetime(year, 1, 1, tzinfo=zone)
    end = dt.datetime(year + 1, 1, 1, tzinfo=zone)
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    micro = dt.timedelta(microseconds=1)
    return (start - epoch) // micro, (end - epoch) // micro


def _batch_ids(connection: Connection, site_id: int, start_us: int, end_us: int) -> list[int]:
    ids: set[int] = set()
    for table in (schema.reading, schema.reading_staging, schema.reading_version):
        ids.update(
            int(b)
            for (b,) in connection.execute(
                select(table.c.batch_id)
                .where(
                    table.c.site_id == site_id, table.c.ts_us >= start_us, table.c.ts_us < end_us
                )
                .distinct()
            )
        )
    return sorted(ids)


def _in_year(payload: dict[str, Any], site: str, year: int) -> bool:
    """Whether a leaf payload is about ``site`` in ``year`` (period label, month or day)."""
    if payload.get("site") != site:
        return False
    if (
        "target_kind" in payload
    ):  # evidence: <source>/<YYYY-MM>, manual/…/<YYYYMMDD>-…, request/<id>
        target = str(payload.get("target_ref", ""))
        if payload["target_kind"] == "request":
            return True
        return f"/{year}" in target
    for key in ("period", "period_start", "period_end", "from", "to"):
        value = payload.get(key)
        if value is not None and str(value).startswith(str(year)):
            return True
    return False


def _select_leaves(
    connection: Connection, site: str, year: int, batch_ids: Sequence[int], size: int
) -> list[Any]:
    t = schema.ledger_leaves
    columns = (t.c.leaf_index, t.c.kind, t.c.ref, t.c.payload, t.c.leaf_hash)
    rows: dict[int, Any] = {}
    refs = [str(b) for b in batch_ids]
    for i in range(0, len(refs), _CHUNK):
        for row in connection.execute(
            select(*columns).where(t.c.kind == "ingest_batch", t.c.ref.in_(refs[i : i + _CHUNK]))
        ):
            rows[int(row.leaf_index)] = row
    grant_ids: set[str] = set()
    for row in connection.execute(select(*columns).where(t.c.kind.in_(SITE_KINDS))):
        payload = json.loads(row.payload)
        if _in_year(payload, site, year):
            rows[int(row.leaf_index)] = row
            if row.kind == "signoff" and payload.get("grant_id") is not None:
                grant_ids.add(str(payload["grant_id"]))
    if grant_ids:  # the grants the sign-offs name, and the verifier keys put on them
        for row in connection.execute(select(*columns).where(t.c.kind.in_(GRANT_KINDS))):
            if str(json.loads(row.payload).get("grant_id")) in grant_ids:
                rows[int(row.leaf_index)] = row
    return [rows[i] for i in sorted(rows) if i < size]


def _memory_tree(connection: Connection, size: int) -> merkle.MemoryTree:
    t = schema.ledger_leaves
    hashes = [
        bytes(h)
        for (h,) in connection.execution_options(yield_per=20_000).execute(
            select(t.c.leaf_hash).where(t.c.leaf_index < size).order_by(t.c.leaf_index)
        )
    ]
    if len(hashes) != size:
        raise LedgerError(
            f"账本缺少叶子 / the log holds {len(hashes)} of the {size} leaves its latest head "
            "signs; run tansuan verify"
        )
    return merkle.MemoryTree(hashes)


def _bodies(connection: Connection, indices: Sequence[int]) -> Iterator[tuple[int, bytes]]:
    t = schema.ledger_leaves
    for i in range(0, len(indices), _CHUNK):
        part = list(indices[i : i + _CHUNK])
        for index, body in connection.execute(
            select(t.c.leaf_index, t.c.body).where(t.c.leaf_index.in_(part))
        ):
            yield int(index), b"" if body is None else bytes(body)


def _latest_head(engine: Engine, ledger: Ledger) -> TreeHead:
    """The latest tree head, issuing one first when leaves were appended since."""
    with engine.connect() as connection:
        head = latest_sth(connection)
        size = ledger.tree_size(connection)
    if head is None or head.tree_size < size:
        head = ledger.issue_sth_now(engine)
    return head


def write_pack(
    engine: Engine,
    ledger: Ledger,
    *,
    site: str,
    year: int,
    out: Path,
    now: dt.datetime,
    batch_rows: BatchRows | None = None,
    evidence_blob: EvidenceBlob | None = None,
    progress: Callable[[int], None] | None = None,
    total: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Write the pack of ``site`` × ``year`` to ``out`` (refuses to overwrite); return its
    manifest (plus ``manifest_sha256``).

    ``now``: when the pack is written (an injected instant). ``batch_rows``: the store's
    rows of a batch (default: read from the store's reading tables directly, the same
    rows as ``tansuan.store.batch_rows`` without a datetime each). ``total(n)`` is told the
    number of progress steps (the batches), ``progress(k)`` each step done.
    """
    if not 1900 <= year <= 9999:
        raise InputError(f"year {year} is not a calendar year", field="year")
    if out.exists():
        raise InputError(f"{out} exists; write the pack to a new file", field="out")
    head = _latest_head(engine, ledger)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    try:
        with engine.connect() as connection:
            manifest = _write(
                connection,
                ledger,
                head,
                site=site,
                year=year,
                path=partial,
                now=now,
                batch_rows=batch_rows,
                evidence_blob=evidence_blob,
                progress=progress,
                total=total,
            )
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return manifest


def _write(
    connection: Connection,
    ledger: Ledger,
    head: TreeHead,
    *,
    site: str,
    year: int,
    path: Path,
    now: dt.datetime,
    batch_rows: BatchRows | None,
    evidence_blob: EvidenceBlob | None,
    progress: Callable[[int], None] | None,
    total: Callable[[int], None] | None,
) -> dict[str, Any]:
    site_id, zone = _site_zone(connection, site)
    start_us, end_us = _year_bounds_us(year, zone)
    batch_ids = [] if site_id is None else _batch_ids(connection, site_id, start_us, end_us)
    leaves = _select_leaves(connection, site, year, batch_ids, head.tree_size)
    tree = _memory_tree(connection, head.tree_size)
    if tree.root() != head.root_hash:
        raise LedgerError(
            "账本与最新树头不符 / the stored leaves do not hash to the latest signed head; "
            "run tansuan verify"
        )
    batch_leaves = [row for row in leaves if row.kind == "ingest_batch"]
    if total is not None:
        total(len(batch_leaves))
    archive = _Zip(path)
    counts: dict[str, int] = defaultdict(int)
    try:
        # records first: the leaves name their offsets
        offsets: dict[int, tuple[int, int]] = {}
        with archive.stream(pack_check.RECORDS, compress=False) as records:
            for index, body in _bodies(connection, [int(r.leaf_index) for r in batch_leaves]):
                offsets[index] = (records.size, records.write(body))
        signoff_sizes: set[int] = set()
        with archive.stream(pack_check.LEAVES) as out:
            for row in leaves:
                doc: dict[str, Any] = {
                    "leaf_index": int(row.leaf_index),
                    "kind": row.kind,
                    "ref": row.ref,
                    "payload": row.payload,
                    "leaf_hash": b64(bytes(row.leaf_hash)),
                }
                if row.kind == "ingest_batch":
                    offset, length = offsets[int(row.leaf_index)]
                    doc.update(record_offset=offset, record_bytes=length)
                if row.kind == "signoff":
                    signoff_sizes.add(_statement_size(row.payload))
                out.write(json.dumps(doc, ensure_ascii=False) + "\n")
                counts[row.kind] += 1
        with archive.stream(pack_check.PROOFS) as out:
            for row in leaves:
                path_ = tree.inclusion_proof(int(row.leaf_index), head.tree_size)
                proof = {
                    "leaf_index": int(row.leaf_index),
                    "tree_size": head.tree_size,
                    "audit_path": [b64(h) for h in path_],
                }
                out.write(json.dumps(proof) + "\n")
        heads = [h for h in tree_heads(connection) if h.tree_size <= head.tree_size]
        with archive.stream(pack_check.STHS) as out:
            for h in heads:
                out.write(json.dumps(h.to_json()) + "\n")
        firsts = {h.tree_size for h in heads} | {s for s in signoff_sizes if s >= 0}
        with archive.stream(pack_check.CONSISTENCY) as out:
            for first in sorted(s for s in firsts if 0 < s < head.tree_size):
                proof_ = tree.consistency_proof(first, head.tree_size)
                out.write(
                    json.dumps(
                        {
                            "first": first,
                            "second": head.tree_size,
                            "consistency": [b64(h) for h in proof_],
                        }
                    )
                    + "\n"
                )
        counts["readings"] = _write_readings(
            archive, connection, batch_leaves, batch_rows, progress
        )
        counts["manual_entries"] = _write_manual(archive, connection, site, year)
        counts["result_sets"] = _write_results(archive, connection, site, year)
        counts["evidence_files"] = _write_evidence(archive, leaves, evidence_blob)
        archive.add(pack_check.PUBLIC_KEY, public_key_pem(ledger.public_key))
        archive.add("check.py", Path(pack_check.__file__).read_bytes())
        files_list = "\n".join(f"- `{name}`" for name in sorted(archive.files))
        readme = README.format(site=site, year=year, created=us_to_iso(_us(now)), files=files_list)
        archive.add("README.md", readme.encode("utf-8"))
        manifest = {
            "format": pack_check.PACK_FORMAT,
            "site": site,
            "year": year,
            "created_at": us_to_iso(_us(now)),
            "tree_size": head.tree_size,
            "sha256_root_hash": b64(head.root_hash),
            "counts": dict(sorted(counts.items())),
            "files": dict(sorted(archive.files.items())),
        }
        raw = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        archive.archive.writestr(pack_check.MANIFEST, raw)
    finally:
        archive.archive.close()
    return {**manifest, "manifest_sha256": hashlib.sha256(raw).hexdigest()}


def _us(ts: dt.datetime) -> int:
    if ts.tzinfo is None:
        raise InputError("the pack's 'now' needs a time zone", field="now")
    return (ts - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)


def _statement_size(payload_text: str) -> int:
    """The tree size a sign-off's statement signs (-1 when unreadable: check.py names it)."""
    try:
        statement = json.loads(json.loads(payload_text)["statement"])
        return int(statement["tree_size"])
    except (KeyError, ValueError, TypeError):
        return -1


_BATCH_SQL = (
    "SELECT p.site_key, p.key, r.ts_us, r.value, r.quality, r.version FROM {t} r "
    "JOIN point p ON p.id = r.point_id WHERE r.batch_id = {param}"
)


def _stored_batch(connection: Connection, batch_id: int) -> list[Any]:
    """A batch's stored readings ``(site, point, ts_us, value, quality, version)`` from
    the store's three reading tables (current, staging, superseded versions): the same
    rows as ``store.batch_rows``, without a datetime per reading."""
    sqlite = connection.dialect.name == "sqlite"
    rows: list[Any] = []
    for table in ("reading", "reading_staging", "reading_version"):
        sql = _BATCH_SQL.format(t=table, param="?" if sqlite else "%s")
        result = connection.exec_driver_sql(sql, (batch_id,))
        if sqlite:  # the driver's tuples: no Row object per reading (~2× faster)
            rows.extend(result.cursor.fetchall())
            result.close()
        else:  # psycopg's cursor is read through SQLAlchemy's buffering: use its rows
            rows.extend(result.fetchall())
    return rows


def _csv_field(text: str) -> str:
    """``text`` as one CSV field (quoted only when it must be)."""
    return _csv_line([text])[:-1]


def _write_readings(
    archive: _Zip,
    connection: Connection,
    batch_leaves: Sequence[Any],
    batch_rows: BatchRows | None,
    progress: Callable[[int], None] | None,
) -> int:
    """``readings.csv``: one line a stored reading of each packed batch. Strings are
    escaped once per distinct value and instants formatted once per distinct instant."""
    n = 0
    iso: dict[int, str] = {}
    field: dict[str, str] = {}
    with archive.stream(pack_check.READINGS_CSV) as out:
        out.write(_csv_line(pack_check.READINGS_HEADER))
        for row in batch_leaves:
            batch_id = int(json.loads(row.payload)["batch_id"])
            if batch_rows is None:
                rows = _stored_batch(connection, batch_id)
            else:
                rows = [
                    (s, p, _us(t), v, q, ver)
                    for s, p, t, v, q, ver in batch_rows(connection, batch_id)
                ]
            if len(iso) > 200_000:
                iso.clear()
            lines = []
            for site, point, ts, value, quality, version in rows:
                stamp = iso.get(ts)
                if stamp is None:
                    stamp = iso[ts] = us_to_iso(ts)
                s = field.get(site) or field.setdefault(site, _csv_field(site))
                p = field.get(point) or field.setdefault(point, _csv_field(point))
                q = field.get(quality) or field.setdefault(quality, _csv_field(quality))
                lines.append(f"{batch_id},{s},{p},{stamp},{float(value)!r},{q},{version}\n")
            out.write("".join(lines))
            n += len(rows)
            if progress is not None:
                progress(1)
    return n


def _write_manual(archive: _Zip, connection: Connection, site: str, year: int) -> int:
    e, s = schema.series_entry, schema.series
    first, last = year * 10000 + 101, year * 10000 + 1231
    query = (
        select(e, s.c.site_key, s.c.key)
        .join(s, s.c.id == e.c.series_id)
        .where(s.c.site_key == site, e.c.period_start <= last, e.c.period_end >= first)
        .order_by(s.c.key, e.c.period_start, e.c.period_end, e.c.document_ref, e.c.version)
    )
    n = 0
    with archive.stream(pack_check.MANUAL_CSV) as out:
        out.write(_csv_line(pack_check.MANUAL_HEADER))
        for row in connection.execute(query):
            out.write(
                _csv_line(
                    (
                        row.site_key,
                        row.key,
                        row.period_start,
                        row.period_end,
                        row.document_ref,
                        row.version,
                        int(bool(row.current)),
                        repr(float(row.value)),
                        row.attrs,
                        row.batch_id,
                        row.entered_at_us,
                        row.site_id,
                        row.series_id,
                    )
                )
            )
            n += 1
    return n


def _write_results(archive: _Zip, connection: Connection, site: str, year: int) -> int:
    rs, rl = schema.result_sets, schema.result_lines
    sets = list(
        connection.execute(
            select(rs)
            .where(rs.c.site_id == site, rs.c.period.like(f"{year}-%"))
            .order_by(rs.c.source_id, rs.c.period, rs.c.version)
        )
    )
    ids = [int(r.id) for r in sets]
    lines: dict[int, list[Any]] = defaultdict(list)
    for i in range(0, len(ids), _CHUNK):
        for line in connection.execute(
            select(rl).where(rl.c.set_id.in_(ids[i : i + _CHUNK])).order_by(rl.c.gas, rl.c.scope)
        ):
            lines[int(line.set_id)].append(line)
    sums: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    all_ = pack_check.ALL
    with archive.stream(pack_check.SETS_CSV) as out:
        out.write(_csv_line(pack_check.SETS_HEADER))
        for r in sets:
            out.write(
                _csv_line(
                    (
                        r.id,
                        r.site_id,
                        r.source_id,
                        r.period,
                        r.version,
                        r.status,
                        r.state,
                        int(bool(r.counted)),
                        r.method,
                        r.inputs_digest,
                    )
                )
            )
            if r.status == "current" and r.counted and r.state == "computed":
                for line in lines[int(r.id)]:
                    for key in (
                        (r.source_id, line.gas, line.scope),
                        (all_, line.gas, line.scope),
                        (all_, all_, all_),
                    ):
                        sums[key][0] += 0 if key[1] == all_ else int(line.mass_g)
                        sums[key][1] += int(line.co2e_g)
    with archive.stream(pack_check.LINES_CSV) as out:
        out.write(_csv_line(pack_check.LINES_HEADER))
        for set_id in ids:
            for line in lines[set_id]:
                out.write(_csv_line((set_id, line.gas, line.scope, line.mass_g, line.co2e_g)))
    for r in sets:
        archive.add(f"{pack_check.TRACES}{r.id}.json", bytes(r.trace))
    with archive.stream(pack_check.ANNUAL_CSV) as out:
        out.write(_csv_line(pack_check.ANNUAL_HEADER))
        for (source, gas, scope), (mass_g, co2e_g) in sorted(sums.items()):
            out.write(
                _csv_line(
                    (source, gas, scope, mass_g, co2e_g, _grams_to_t(mass_g), _grams_to_t(co2e_g))
                )
            )
    return len(sets)


def _write_evidence(
    archive: _Zip, leaves: Sequence[Any], evidence_blob: EvidenceBlob | None
) -> int:
    digests = sorted(
        {str(json.loads(row.payload).get("sha256")) for row in leaves if row.kind == "evidence"}
    )
    missing = []
    for digest in digests:
        data = None if evidence_blob is None else evidence_blob(digest)
        if data is None:
            missing.append(digest)
            continue
        archive.add(f"{pack_check.EVIDENCE}{digest}", data, compress=False)
    if missing:
        raise LedgerError(
            f"存证文件缺失 / {len(missing)} evidence file(s) logged but not found, e.g. "
            f"{missing[0]}; the pack would not hold"
        )
    return len(digests)
