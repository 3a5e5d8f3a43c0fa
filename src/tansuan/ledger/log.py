"""The append-only log in the database: appends, proofs and signed tree heads.

One :class:`Ledger` per process. Appends run inside the caller's transaction (an ingest
batch and its leaf commit together or not at all) and are serialised by the lock on the
``ledger_state`` row. A proof reads its O(log n) complete nodes in one query.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Table,
    bindparam,
    event,
    insert,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from tansuan.errors import LedgerError, NotFound, StoreError
from tansuan.ledger import merkle, schema
from tansuan.ledger.anchors import AnchorFile, anchor_path
from tansuan.ledger.canonical import (
    Row,
    encode_coded,
    encode_columns,
    encode_readings,
    envelope,
    ingest_batch_payload,
    key_table,
    payload_text,
)
from tansuan.ledger.signing import TreeHead, key_dir, load_or_create_key, sign_tree_head

log = logging.getLogger(__name__)

_NODE_BASE = 1 << schema.NODE_LEVEL_SHIFT

_BLOCKS_QUERY = union_all(
    select(schema.leaves.c.leaf_index.label("id"), schema.leaves.c.leaf_hash.label("hash")).where(
        schema.leaves.c.leaf_index.in_(bindparam("leaf_ids", expanding=True))
    ),
    select(schema.nodes.c.node_id, schema.nodes.c.hash).where(
        schema.nodes.c.node_id.in_(bindparam("node_ids", expanding=True))
    ),
)


class Entry(NamedTuple):
    """One leaf to append. ``body``: an ingest batch's readings record, else None."""

    kind: str
    ref: str
    payload: dict[str, Any]
    body: bytes | None = None


@dataclass(frozen=True)
class Leaf:
    """A stored leaf row."""

    leaf_index: int
    kind: str
    ref: str
    payload: str
    body: bytes | None
    leaf_hash: bytes
    appended_at: dt.datetime


def _bind(connection: Connection, column: Column[Any], value: Any) -> Any:
    """``value`` as the driver wants it for ``column`` (e.g. SQLite's datetime string)."""
    dialect = connection.dialect
    processor = column.type.dialect_impl(dialect).bind_processor(dialect)
    return value if processor is None else processor(value)


def _mark(connection: Connection) -> str:
    return "?" if connection.dialect.paramstyle == "qmark" else "%s"


def _insert_many(connection: Connection, table: Table, rows: list[tuple[Any, ...]]) -> None:
    """Insert positional rows in all of ``table``'s columns straight through the driver.

    The hot path of appending: SQLAlchemy's per-row parameter processing would cost
    more than the inserts themselves. Values must already be in driver form.
    """
    mark = _mark(connection)
    columns = ", ".join(c.name for c in table.columns)
    marks = ", ".join([mark] * len(table.columns))
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({columns}) VALUES ({marks})", rows)


#: Lock the state row and read it in one statement (SQLite ≥ 3.35 and PostgreSQL).
_LOCK_RETURNING = (
    f"UPDATE {schema.state.name} SET tree_size = tree_size WHERE id = 1 "
    "RETURNING tree_size, frontier"
)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Ledger:
    """The tamper-evident log stored next to the data it covers.

    Parameters
    ----------
    key
        The log's Ed25519 signing key (see :func:`signing.load_or_create_key`).
    clock
        Returns the current aware UTC time; tests pass a fixed clock.
    anchors
        The anchor file every issued tree head is also appended to, as its transaction
        commits (see :mod:`tansuan.ledger.anchors`); None keeps heads in the database only.
    witness_url
        A witness every head issued by :meth:`issue_sth_now` is sent to after the commit
        (see :mod:`tansuan.ledger.witness`).
    """

    def __init__(
        self,
        key: Ed25519PrivateKey,
        *,
        clock: Callable[[], dt.datetime] = _utc_now,
        anchors: AnchorFile | None = None,
        witness_url: str | None = None,
    ) -> None:
        self.key = key
        self.clock = clock
        self.anchors = anchors
        self.witness_url = witness_url
        #: leaves were appended (maybe) since this process last issued a tree head
        self.unsigned = False

    @classmethod
    def from_data_dir(
        cls,
        data_dir: Path,
        *,
        clock: Callable[[], dt.datetime] = _utc_now,
        witness_url: str | None = None,
    ) -> Ledger:
        """The ledger with the key pair under ``<data_dir>/ledger`` (created on first start),
        anchoring its tree heads in ``<data_dir>/ledger/anchors.jsonl``."""
        directory = Path(data_dir)
        return cls(
            load_or_create_key(key_dir(directory)),
            clock=clock,
            anchors=AnchorFile(anchor_path(directory)),
            witness_url=witness_url,
        )

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.key.public_key()

    # ---------------------------------------------------------------- appending

    def append(
        self,
        connection: Connection,
        kind: str,
        ref: str,
        payload: dict[str, Any],
        *,
        body: bytes | None = None,
    ) -> int:
        """Append one leaf in the caller's transaction; return its index.

        ``kind`` is one of :data:`canonical.KINDS`; ``ref`` names the thing logged
        (``"42"`` for batch 42, ``"result/7@2"``, …); ``payload`` is a JSON object that
        should carry a digest of the thing (see docs/ledger.md).
        """
        return self.append_many(connection, [Entry(kind, ref, payload, body)])[0]

    def append_many(self, connection: Connection, entries: Sequence[Entry]) -> list[int]:
        """Append leaves in order in the caller's transaction; return their indices."""
        if not entries:
            return []
        size, frontier = self._lock_state(connection)
        self.unsigned = True  # after the lock: a head issued meanwhile cannot clear it early
        stamp = _bind(connection, schema.leaves.c.appended_at, self.clock())
        leaf_rows: list[tuple[Any, ...]] = []
        node_rows: list[tuple[Any, ...]] = []
        for entry in entries:
            text = payload_text(entry.payload)
            hash_ = merkle.leaf_hash(envelope(entry.kind, entry.ref, text))
            leaf_rows.append((frontier.size, entry.kind, entry.ref, text, entry.body, hash_, stamp))
            for level, index, node in frontier.append(hash_):
                node_rows.append((schema.node_id(level, index), node))
        _insert_many(connection, schema.leaves, leaf_rows)
        if node_rows:
            _insert_many(connection, schema.nodes, node_rows)
        mark = _mark(connection)
        connection.exec_driver_sql(
            f"UPDATE {schema.state.name} SET tree_size = {mark}, frontier = {mark} WHERE id = 1",
            (frontier.size, frontier.pack()),
        )
        return list(range(size, frontier.size))

    def ingest_hook(self, connection: Connection, batch_id: int, rows: Sequence[Row]) -> int:
        """Log one committed ingest batch: one leaf covering every reading in ``rows``.

        Called by ingest inside the batch's transaction, just before commit. ``rows`` are
        ``(site_id, point_id, ts, value, quality, version)`` tuples. Returns the leaf index.
        """
        body = encode_readings(rows)
        payload = ingest_batch_payload(batch_id, len(rows), body)
        return self.append(connection, "ingest_batch", str(batch_id), payload, body=body)

    def ingest_columns_hook(self, connection: Connection, batch_id: int, rows: Any) -> int:
        """:meth:`ingest_hook` for a batch given as columns (the ingest's ``BatchRows``):
        the same leaf, without building a tuple and a datetime per reading.

        When ``rows.codes`` holds the ingest's integer point codes (see
        :class:`~tansuan.ingest.result.PointCodes`) the record is built from those and the
        per-part quality lists, never from 2 × n Python strings.
        """
        codes = getattr(rows, "codes", None)
        if codes is not None:
            body = encode_coded(
                codes.entry,
                key_table(codes.site_keys, codes.point_keys),
                rows.ts_us,
                rows.value,
                rows.quality_parts,
                rows.version,
            )
        else:
            body = encode_columns(
                rows.site, rows.point, rows.ts_us, rows.value, rows.quality, rows.version
            )
        payload = ingest_batch_payload(batch_id, len(rows.ts_us), body)
        return self.append(connection, "ingest_batch", str(batch_id), payload, body=body)

    def _lock_state(self, connection: Connection) -> tuple[int, merkle.Frontier]:
        """Lock the log for this transaction and read its size and frontier.

        The lock is a no-op UPDATE of the state row: it takes PostgreSQL's row lock, and
        SQLite's write lock *before* anything is read (a read first would let another
        writer commit in between, and pysqlite only opens the transaction at the first
        write). Appends and tree heads are therefore serialised on both engines.
        """
        if connection.dialect.update_returning:  # one round trip instead of two
            row = connection.exec_driver_sql(_LOCK_RETURNING).first()
            if row is None:  # tables made without create_tables
                schema.seed_state(connection)
                row = connection.exec_driver_sql(_LOCK_RETURNING).one()
            return int(row[0]), merkle.Frontier.unpack(int(row[0]), bytes(row[1]))
        lock = (
            update(schema.state)
            .where(schema.state.c.id == 1)
            .values(tree_size=schema.state.c.tree_size)
        )
        if connection.execute(lock).rowcount == 0:  # tables made without create_tables
            schema.seed_state(connection)
            connection.execute(lock)
        row = connection.execute(
            select(schema.state.c.tree_size, schema.state.c.frontier).where(schema.state.c.id == 1)
        ).one()
        return row.tree_size, merkle.Frontier.unpack(row.tree_size, row.frontier)

    # ---------------------------------------------------------------- reading

    def tree_size(self, connection: Connection) -> int:
        size = connection.execute(
            select(schema.state.c.tree_size).where(schema.state.c.id == 1)
        ).scalar()
        return int(size or 0)

    def leaf(self, connection: Connection, leaf_index: int) -> Leaf:
        row = connection.execute(
            select(schema.leaves).where(schema.leaves.c.leaf_index == leaf_index)
        ).first()
        if row is None:
            raise NotFound(f"叶子不存在 / no leaf {leaf_index} in the ledger")
        return Leaf(**row._mapping)

    def find_leaf(self, connection: Connection, kind: str, ref: str) -> Leaf:
        """The latest leaf of ``kind`` for ``ref``."""
        row = connection.execute(
            select(schema.leaves)
            .where(schema.leaves.c.kind == kind, schema.leaves.c.ref == ref)
            .order_by(schema.leaves.c.leaf_index.desc())
            .limit(1)
        ).first()
        if row is None:
            raise NotFound(f"叶子不存在 / no {kind} leaf for {ref!r}")
        return Leaf(**row._mapping)

    def _blocks(
        self, connection: Connection, blocks: set[merkle.Block]
    ) -> dict[merkle.Block, bytes]:
        leaf_ids = [index for level, index in blocks if level == 0]
        node_ids = [schema.node_id(level, index) for level, index in blocks if level > 0]
        found: dict[merkle.Block, bytes] = {}
        for id_, hash_ in connection.execute(
            _BLOCKS_QUERY, {"leaf_ids": leaf_ids, "node_ids": node_ids}
        ):
            if id_ < _NODE_BASE:
                found[(0, id_)] = hash_
            else:
                found[(id_ >> schema.NODE_LEVEL_SHIFT, id_ & (_NODE_BASE - 1))] = hash_
        missing = blocks - found.keys()
        if missing:
            raise LedgerError(f"ledger nodes missing from the database: {sorted(missing)[:5]}")
        return found

    def _check_size(self, connection: Connection, tree_size: int) -> None:
        current = self.tree_size(connection)
        if not 0 <= tree_size <= current:
            raise NotFound(f"树大小无效 / tree size {tree_size} is not in 0 … {current}")

    def _hash_ranges(self, connection: Connection, ranges: Sequence[merkle.Range]) -> list[bytes]:
        found = self._blocks(connection, merkle.blocks_of(ranges))
        return merkle.hash_ranges(ranges, found.__getitem__)

    def root(self, connection: Connection, tree_size: int) -> bytes:
        """MTH of the first ``tree_size`` leaves, from stored nodes."""
        self._check_size(connection, tree_size)
        if tree_size == 0:
            return merkle.EMPTY_ROOT
        return self._hash_ranges(connection, [(0, tree_size)])[0]

    def inclusion_proof(
        self, connection: Connection, leaf_index: int, tree_size: int
    ) -> list[bytes]:
        """Audit path of leaf ``leaf_index`` in the tree of ``tree_size`` leaves."""
        if not 0 <= leaf_index < tree_size:
            raise NotFound(f"叶子不在树中 / leaf {leaf_index} is not in a tree of {tree_size}")
        return self._hash_ranges(connection, merkle.inclusion_ranges(leaf_index, tree_size))

    def consistency_proof(self, connection: Connection, first: int, second: int) -> list[bytes]:
        """Proof that the tree of ``second`` leaves extends the tree of ``first`` leaves."""
        if not 0 <= first <= second:
            raise NotFound(f"无一致性证明 / no consistency proof from {first} to {second}")
        self._check_size(connection, second)
        return self._hash_ranges(connection, merkle.consistency_ranges(first, second))

    # ---------------------------------------------------------------- tree heads

    def issue_sth(self, connection: Connection) -> TreeHead:
        """Sign the current tree head and keep it; commit with the caller's transaction.

        With an anchor file, the head is appended to it when the caller's transaction
        commits (a rolled-back head is never anchored).
        """
        size, frontier = self._lock_state(connection)
        timestamp_ms = int(self.clock().timestamp() * 1000)
        head = sign_tree_head(self.key, size, frontier.root(), timestamp_ms)
        result = connection.execute(
            insert(schema.sths).values(
                tree_size=head.tree_size,
                timestamp_ms=head.timestamp_ms,
                root_hash=head.root_hash,
                signature=head.signature,
                key_id=head.key_id,
            )
        )
        (sth_id,) = result.inserted_primary_key or (None,)
        issued = TreeHead(size, timestamp_ms, head.root_hash, head.signature, head.key_id, sth_id)
        self.unsigned = False
        if self.anchors is not None:
            self._anchor_on_commit(connection, self.anchors, issued)
        return issued

    @staticmethod
    def _anchor_on_commit(connection: Connection, anchors: AnchorFile, head: TreeHead) -> None:
        """Append ``head`` to ``anchors`` as the connection's transaction commits (just
        before the database's COMMIT, so the file is never behind the database); forget it
        on rollback."""
        if not connection.in_transaction():
            anchors.append(head)
            return
        done = [False]

        def on_commit(_connection: Connection) -> None:
            if not done[0]:
                done[0] = True
                anchors.append(head)

        def on_rollback(_connection: Connection) -> None:
            done[0] = True

        event.listen(connection, "commit", on_commit, once=True)
        event.listen(connection, "rollback", on_rollback, once=True)

    def issue_sth_now(self, engine: Engine) -> TreeHead:
        """Issue an STH in its own transaction (anchored as it commits), then send it to
        the witness when one is configured (:class:`LedgerError` if that fails)."""
        try:
            with engine.begin() as connection:
                head = self.issue_sth(connection)
        except SQLAlchemyError as error:
            raise StoreError(f"could not issue a signed tree head: {error}") from error
        if self.witness_url:
            from tansuan.ledger.witness import submit  # deferred: HTTP only with a witness

            submit(self.witness_url, head)
        return head

    def sign_pending(self, engine: Engine) -> TreeHead | None:
        """Issue a tree head when this process appended leaves since its last one: what a
        command that appends leaves calls at its end."""
        return self.issue_sth_now(engine) if self.unsigned else None

    async def run_schedule(
        self, engine: Engine, interval_s: float, *, stop: asyncio.Event | None = None
    ) -> None:
        """Issue an STH now and then every ``interval_s`` [s] until ``stop`` is set.

        The server runs this as an asyncio task; the signing runs in a worker thread.
        """
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                head = await asyncio.to_thread(self.issue_sth_now, engine)
                log.info("signed tree head: size %d", head.tree_size)
            except (StoreError, LedgerError):  # database down, or the head not anchored
                log.exception("scheduled signed tree head failed; will retry")
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval_s)
            except TimeoutError:
                continue


def _tree_head(row: Any) -> TreeHead:
    return TreeHead(
        tree_size=row.tree_size,
        timestamp_ms=row.timestamp_ms,
        root_hash=bytes(row.root_hash),
        signature=bytes(row.signature),
        key_id=bytes(row.key_id),
        sth_id=row.sth_id,
    )


def tree_heads(connection: Connection) -> list[TreeHead]:
    """Every STH kept, in the order issued."""
    rows = connection.execute(select(schema.sths).order_by(schema.sths.c.sth_id))
    return [_tree_head(row) for row in rows]


def latest_sth(connection: Connection) -> TreeHead | None:
    row = connection.execute(
        select(schema.sths).order_by(schema.sths.c.sth_id.desc()).limit(1)
    ).first()
    return None if row is None else _tree_head(row)


def sth_covering(connection: Connection, leaf_index: int) -> TreeHead | None:
    """The latest STH whose tree contains leaf ``leaf_index``, if any."""
    row = connection.execute(
        select(schema.sths)
        .where(schema.sths.c.tree_size > leaf_index)
        .order_by(schema.sths.c.sth_id.desc())
        .limit(1)
    ).first()
    return None if row is None else _tree_head(row)
