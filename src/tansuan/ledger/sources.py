"""Where the verifier reads a log from: a live database or an export directory.

Both give the same view (:class:`Source`): the public key, the leaves in index order, the
stored tree nodes, the signed tree heads, and the *current data* of each ingest batch.
``tansuan ledger export DIR`` writes the directory that :class:`ExportSource` reads:

==================  ==============================================================
``manifest.json``   format, counts, when exported
``public_key.pem``  the log's Ed25519 public key (SubjectPublicKeyInfo PEM)
``leaves.jsonl``    one leaf a line: leaf_index, kind, ref, payload (the canonical
                    JSON text exactly as stored), body (base64 or null), leaf_hash
                    (base64), appended_at (ISO 8601)
``nodes.jsonl``     stored interior nodes: level, index, hash (base64)
``sths.jsonl``      every STH in the documented JSON form, in the order issued
``readings.jsonl``  the data: one ingest batch a line: batch_id, readings as
                    [site_id, point_id, ts (ISO 8601 UTC), value, quality, version]
==================  ==============================================================
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, func, select

from tansuan.errors import InputError
from tansuan.ledger import schema
from tansuan.ledger.canonical import Row, ts_us, us_to_iso
from tansuan.ledger.log import Leaf, tree_heads
from tansuan.ledger.merkle import Block
from tansuan.ledger.signing import TreeHead, b64, load_public_key, public_key_pem, unb64
from tansuan.store.evidence import BlobStore

EXPORT_FORMAT = "tansuan-ledger-export-v1"

#: The store's contract: the stored rows of a batch, sorted (point, ts, version).
BatchRows = Callable[[Connection, int], Sequence[Row]]
#: Optional: every batch id in the store (lets verify find batches no leaf logs).
BatchIds = Callable[[Connection], Iterable[int]]


class Source(Protocol):
    """What the verifier needs to read."""

    description: str
    public_key: Ed25519PublicKey

    def leaf_count(self) -> int: ...

    def leaves(self) -> Iterator[Leaf]: ...

    def node(self, block: Block) -> bytes | None: ...

    def tree_heads(self) -> list[TreeHead]: ...

    def batch_rows(self, batch_id: int) -> Sequence[Row]: ...

    def batch_ids(self) -> Iterable[int] | None:
        """Every batch id the data holds, or None when the source cannot list them."""
        ...


class LiveSource:
    """A live database, with the store's ``batch_rows`` plugged in."""

    def __init__(
        self,
        connection: Connection,
        batch_rows: BatchRows,
        public_key: Ed25519PublicKey,
        description: str = "database",
        batch_ids: BatchIds | None = None,
        blobs: BlobStore | None = None,
    ) -> None:
        self.connection = connection
        #: where the evidence files are (None: the configured store, ``blob_store()``)
        self.blobs = blobs
        self._batch_rows = batch_rows
        self._batch_ids = batch_ids
        self.public_key = public_key
        self.description = description

    def leaf_count(self) -> int:
        return int(
            self.connection.execute(select(func.count()).select_from(schema.leaves)).scalar_one()
        )

    def leaves(self) -> Iterator[Leaf]:
        result = self.connection.execution_options(yield_per=2000).execute(
            select(schema.leaves).order_by(schema.leaves.c.leaf_index)
        )
        for row in result:
            yield Leaf(**row._mapping)

    def node(self, block: Block) -> bytes | None:
        level, index = block
        if level == 0:
            query = select(schema.leaves.c.leaf_hash).where(schema.leaves.c.leaf_index == index)
        else:
            query = select(schema.nodes.c.hash).where(
                schema.nodes.c.node_id == schema.node_id(level, index)
            )
        value = self.connection.execute(query).scalar()
        return None if value is None else bytes(value)

    def tree_heads(self) -> list[TreeHead]:
        return tree_heads(self.connection)

    def batch_rows(self, batch_id: int) -> Sequence[Row]:
        return self._batch_rows(self.connection, batch_id)

    def batch_ids(self) -> Iterable[int] | None:
        return None if self._batch_ids is None else self._batch_ids(self.connection)


def _iso(ts: dt.datetime) -> str:
    return us_to_iso(ts_us(ts))


def _leaf_json(leaf: Leaf) -> dict[str, Any]:
    appended = leaf.appended_at
    if appended.tzinfo is None:  # SQLite returns naive UTC
        appended = appended.replace(tzinfo=dt.UTC)
    return {
        "leaf_index": leaf.leaf_index,
        "kind": leaf.kind,
        "ref": leaf.ref,
        "payload": leaf.payload,
        "body": None if leaf.body is None else b64(leaf.body),
        "leaf_hash": b64(leaf.leaf_hash),
        "appended_at": _iso(appended),
    }


def write_export(
    source: LiveSource,
    directory: Path,
    *,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Write the export directory (refuses a non-empty one); return the manifest."""
    if directory.exists() and any(directory.iterdir()):
        raise InputError(f"{directory} is not empty; export into a new folder", field="dir")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "public_key.pem").write_bytes(public_key_pem(source.public_key))
    n_leaves = n_readings = 0
    with (
        open(directory / "leaves.jsonl", "w", encoding="utf-8") as leaves_out,
        open(directory / "readings.jsonl", "w", encoding="utf-8") as readings_out,
    ):

        def write_batch(batch_id: int) -> None:
            nonlocal n_readings
            readings = [
                [site, point, _iso(ts), value, quality, version]
                for site, point, ts, value, quality, version in source.batch_rows(batch_id)
            ]
            n_readings += len(readings)
            readings_out.write(json.dumps({"batch_id": batch_id, "readings": readings}) + "\n")

        logged: set[int] = set()
        for leaf in source.leaves():
            leaves_out.write(json.dumps(_leaf_json(leaf), ensure_ascii=False) + "\n")
            n_leaves += 1
            if leaf.kind == "ingest_batch":
                batch_id = int(json.loads(leaf.payload)["batch_id"])
                logged.add(batch_id)
                write_batch(batch_id)
            if progress is not None:
                progress(1)
        for batch_id in sorted(set(source.batch_ids() or ()) - logged):
            write_batch(batch_id)  # data no leaf covers: offline verify names it
    n_nodes = 0
    with open(directory / "nodes.jsonl", "w", encoding="utf-8") as nodes_out:
        for node_id, hash_ in source.connection.execute(
            select(schema.nodes.c.node_id, schema.nodes.c.hash).order_by(schema.nodes.c.node_id)
        ):
            level, index = node_id >> schema.NODE_LEVEL_SHIFT, node_id & ((1 << 40) - 1)
            nodes_out.write(json.dumps({"level": level, "index": index, "hash": b64(hash_)}) + "\n")
            n_nodes += 1
    heads = source.tree_heads()
    with open(directory / "sths.jsonl", "w", encoding="utf-8") as sths_out:
        for head in heads:
            sths_out.write(json.dumps(head.to_json()) + "\n")
    manifest = {
        "format": EXPORT_FORMAT,
        "exported_at": _iso(dt.datetime.now(dt.UTC)),
        "leaves": n_leaves,
        "nodes": n_nodes,
        "sths": len(heads),
        "readings": n_readings,
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    return manifest


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        raise InputError(f"{path.name} is missing from the export", field=str(path))
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as error:
                    raise InputError(f"not JSON: {error}", field=f"{path.name}:{number}") from error


def _parse_ts(text: str) -> dt.datetime:
    ts = dt.datetime.fromisoformat(text)
    if ts.tzinfo is None:
        raise InputError(f"timestamp {text!r} has no time zone", field="readings.jsonl")
    return ts


class ExportSource:
    """An export directory written by :func:`write_export`."""

    def __init__(self, directory: Path, public_key: Ed25519PublicKey | None = None) -> None:
        self.directory = directory
        self.description = str(directory)
        try:
            manifest = json.loads((directory / "manifest.json").read_text("utf-8"))
        except (OSError, ValueError) as error:
            raise InputError(f"not an export folder: {error}", field=str(directory)) from error
        if not isinstance(manifest, dict) or manifest.get("format") != EXPORT_FORMAT:
            raise InputError(f"not a {EXPORT_FORMAT} directory", field=str(directory))
        self.public_key = public_key or load_public_key((directory / "public_key.pem").read_bytes())
        self._nodes: dict[Block, bytes] | None = None
        self._reader: Iterator[tuple[int, list[Row]]] | None = None
        self._pending: dict[int, list[Row]] = {}
        self._seen: set[int] = set()
        self._last: tuple[int, list[Row]] | None = None
        self._leaf_hashes: dict[int, bytes] = {}

    def leaf_count(self) -> int:
        path = self.directory / "leaves.jsonl"
        if not path.exists():
            raise InputError("leaves.jsonl is missing from the export", field=str(path))
        with open(path, encoding="utf-8") as handle:
            return sum(1 for line in handle if line.strip())

    def leaves(self) -> Iterator[Leaf]:
        for doc in _read_jsonl(self.directory / "leaves.jsonl"):
            try:
                leaf = Leaf(
                    leaf_index=int(doc["leaf_index"]),
                    kind=str(doc["kind"]),
                    ref=str(doc["ref"]),
                    payload=str(doc["payload"]),
                    body=None if doc["body"] is None else unb64(doc["body"], field="body"),
                    leaf_hash=unb64(doc["leaf_hash"], field="leaf_hash"),
                    appended_at=_parse_ts(doc["appended_at"]),
                )
            except (KeyError, TypeError, ValueError) as error:
                raise InputError(f"bad leaf line: {error!r}", field="leaves.jsonl") from error
            self._leaf_hashes[leaf.leaf_index] = leaf.leaf_hash
            yield leaf

    def node(self, block: Block) -> bytes | None:
        if block[0] == 0:
            return self._leaf_hashes.get(block[1])
        if self._nodes is None:
            self._nodes = {
                (int(d["level"]), int(d["index"])): unb64(d["hash"], field="nodes.jsonl")
                for d in _read_jsonl(self.directory / "nodes.jsonl")
            }
        return self._nodes.get(block)

    def tree_heads(self) -> list[TreeHead]:
        return [
            TreeHead.from_json(doc, field=f"sths.jsonl[{i}]")
            for i, doc in enumerate(_read_jsonl(self.directory / "sths.jsonl"))
        ]

    def _batches(self) -> Iterator[tuple[int, list[Row]]]:
        for doc in _read_jsonl(self.directory / "readings.jsonl"):
            try:
                yield (
                    int(doc["batch_id"]),
                    [
                        (str(s), str(p), _parse_ts(t), float(v), str(q), int(ver))
                        for s, p, t, v, q, ver in doc["readings"]
                    ],
                )
            except (KeyError, TypeError, ValueError) as error:
                raise InputError(f"bad batch line: {error!r}", field="readings.jsonl") from error

    def batch_rows(self, batch_id: int) -> Sequence[Row]:
        """Read forward through readings.jsonl (written in leaf order, so verify streams it);
        batches met out of order wait in memory until asked for."""
        if self._reader is None:
            self._reader = self._batches()
        if self._last is not None and self._last[0] == batch_id:
            return self._last[1]
        rows = self._pending.pop(batch_id, None)
        if rows is None:
            for found, found_rows in self._reader:
                self._seen.add(found)
                if found == batch_id:
                    rows = found_rows
                    break
                self._pending[found] = found_rows
        self._last = (batch_id, rows or [])
        return self._last[1]

    def batch_ids(self) -> Iterable[int] | None:
        """Every batch in the export (reads what the leaves did not ask for)."""
        if self._reader is None:
            self._reader = self._batches()
        for found, rows in self._reader:
            self._seen.add(found)
            self._pending[found] = rows
        return sorted(self._seen)
