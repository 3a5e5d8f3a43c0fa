"""The stored log: appends, proofs from stored nodes, tree heads, keys, schedule."""

from __future__ import annotations

import asyncio
import base64
import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, func, select

from tansuan.errors import ConfigError, InputError, NotFound
from tansuan.ledger import merkle, schema
from tansuan.ledger.api import (
    consistency_proof_json,
    inclusion_proof_json,
    leaf_json,
    receipt_for,
)
from tansuan.ledger.canonical import encode_readings, envelope
from tansuan.ledger.log import Entry, Ledger, tree_heads
from tansuan.ledger.signing import (
    KEY_FILE,
    TreeHead,
    key_dir,
    load_or_create_key,
    signed_bytes,
    unb64,
)
from tansuan.store.engine import upgrade

from .readings_table import ingest, make_rows


def entries(n: int, start: int = 0) -> list[Entry]:
    return [
        Entry("emission_result", f"result/{i}@1", {"co2_t": i * 0.1, "sha256": f"{i:064x}"})
        for i in range(start, start + n)
    ]


def leaf_hashes(engine: Engine) -> list[bytes]:
    with engine.connect() as c:
        return [
            bytes(h)
            for (h,) in c.execute(
                select(schema.leaves.c.leaf_hash).order_by(schema.leaves.c.leaf_index)
            )
        ]


def test_stored_proofs_equal_in_memory_proofs(engine: Engine, ledger: Ledger) -> None:
    """Appending in uneven batches stores exactly the nodes that the in-memory tree has."""
    for n in (1, 2, 5, 1, 13, 3):
        with engine.begin() as c:
            ledger.append_many(c, entries(n, start=len(leaf_hashes(engine))))
    hashes = leaf_hashes(engine)
    size = len(hashes)
    assert size == 25
    tree = merkle.MemoryTree(hashes)
    with engine.connect() as c:
        assert ledger.tree_size(c) == 25
        for m in range(size + 1):
            assert ledger.root(c, m) == tree.root(m)
        for i in range(size):
            path = ledger.inclusion_proof(c, i, size)
            assert path == tree.inclusion_proof(i, size)
            assert merkle.verify_inclusion(i, size, hashes[i], path, tree.root())
        for m in range(size + 1):
            assert ledger.consistency_proof(c, m, size) == tree.consistency_proof(m, size)
        assert c.execute(select(func.count()).select_from(schema.nodes)).scalar() == 25 - 3
        with pytest.raises(NotFound):
            ledger.inclusion_proof(c, 25, 25)
        with pytest.raises(NotFound):
            ledger.root(c, 26)


@pytest.mark.parametrize("returning", [True, False])
def test_appends_with_and_without_update_returning(
    engine: Engine, ledger: Ledger, monkeypatch: pytest.MonkeyPatch, returning: bool
) -> None:
    """The state lock reads the state in the same statement where the database can
    (``UPDATE … RETURNING``), else in a second one; both build the same tree, and both
    seed a missing state row."""
    monkeypatch.setattr(engine.dialect, "update_returning", returning)
    with engine.begin() as c:
        c.execute(schema.state.delete())
    for n in (1, 4, 2):
        with engine.begin() as c:
            ledger.append_many(c, entries(n, start=len(leaf_hashes(engine))))
    hashes = leaf_hashes(engine)
    with engine.connect() as c:
        assert ledger.tree_size(c) == 7
        assert ledger.root(c, 7) == merkle.MemoryTree(hashes).root()


def test_readings_records_are_stored_whole_and_uncompressed_on_postgres(
    engine: Engine, ledger: Ledger
) -> None:
    """The body comes back byte for byte; PostgreSQL keeps it out of line without trying
    to compress it (attstorage 'e' = EXTERNAL)."""
    ingest(engine, ledger, 5, make_rows(5))
    with engine.connect() as c:
        body = ledger.leaf(c, 0).body
        assert body is not None and body == encode_readings(make_rows(5))
        if engine.dialect.name == "postgresql":
            storage = c.exec_driver_sql(
                "SELECT attstorage FROM pg_attribute "
                "WHERE attrelid = 'ledger_leaves'::regclass AND attname = 'body'"
            ).scalar()
            assert storage == "e"


def test_leaf_hash_covers_the_canonical_envelope(engine: Engine, ledger: Ledger) -> None:
    with engine.begin() as c:
        index = ledger.append(c, "grant", "grant/9", {"to": "verifier-1", "points": ["p1"]})
        leaf = ledger.leaf(c, index)
    expected = envelope("grant", "grant/9", '{"points":["p1"],"to":"verifier-1"}')
    assert leaf.leaf_hash == merkle.leaf_hash(expected)
    with engine.begin() as c, pytest.raises(InputError):
        ledger.append(c, "gossip", "x", {})


def test_a_failed_transaction_appends_nothing(engine: Engine, ledger: Ledger) -> None:
    """The leaf commits with the batch or not at all."""
    with pytest.raises(RuntimeError), engine.begin() as c:
        ledger.append_many(c, entries(3))
        raise RuntimeError("ingest failed after the hook")
    with engine.connect() as c:
        assert ledger.tree_size(c) == 0
        assert c.execute(select(func.count()).select_from(schema.leaves)).scalar() == 0


def test_ingest_hook_logs_one_leaf_per_batch(engine: Engine, ledger: Ledger) -> None:
    first = ingest(engine, ledger, 7, make_rows(7))
    second = ingest(engine, ledger, 8, make_rows(8))
    assert (first, second) == (0, 1)
    with engine.connect() as c:
        leaf = ledger.leaf(c, 1)
    assert leaf.kind == "ingest_batch" and leaf.ref == "8"
    assert '"batch_id":8' in leaf.payload and '"count":12' in leaf.payload


def test_tree_heads_are_signed_and_kept(engine: Engine, ledger: Ledger) -> None:
    with engine.begin() as c:
        ledger.append_many(c, entries(6))
    first = ledger.issue_sth_now(engine)
    with engine.begin() as c:
        ledger.append_many(c, entries(4, start=6))
    second = ledger.issue_sth_now(engine)
    with engine.connect() as c:
        kept = tree_heads(c)
    assert [h.tree_size for h in kept] == [6, 10]
    assert kept[1] == second
    assert all(h.verify(ledger.public_key) for h in kept)
    assert len(signed_bytes(10, second.timestamp_ms, second.root_hash)) == 50
    forged = TreeHead(11, second.timestamp_ms, second.root_hash, second.signature, second.key_id)
    assert not forged.verify(ledger.public_key)
    with engine.connect() as c:
        proof = consistency_proof_json(ledger, c, 6, 10)
    assert merkle.verify_consistency(
        6,
        10,
        first.root_hash,
        second.root_hash,
        [unb64(h, field="c") for h in proof["consistency"]],
    )


def test_inclusion_json_and_receipt(engine: Engine, ledger: Ledger) -> None:
    with engine.begin() as c:
        ledger.append_many(c, entries(5))
    with engine.connect() as c, pytest.raises(NotFound, match="not in any signed tree head"):
        inclusion_proof_json(ledger, c, 2)
    with engine.begin() as c:
        receipt = receipt_for(ledger, c, 2)  # issues the STH it needs
    with engine.connect() as c:
        doc = inclusion_proof_json(ledger, c, 2)
    assert doc["tree_size"] == receipt["tree_size"] == 5
    with engine.connect() as c:
        entry = leaf_json(ledger, c, 2)
    assert entry["payload"] == {"co2_t": 0.2, "sha256": f"{2:064x}"}
    assert entry["leaf_hash"] == doc["leaf_hash"] == receipt["leaf_hash"]
    assert merkle.leaf_hash(base64.b64decode(entry["leaf_data"])) == unb64(
        entry["leaf_hash"], field="x"
    )
    assert doc["audit_path"] == receipt["audit_path"]
    head = TreeHead.from_json(doc["sth"])
    assert head.verify(ledger.public_key)
    assert merkle.verify_inclusion(
        2,
        5,
        unb64(doc["leaf_hash"], field="x"),
        [unb64(h, field="x") for h in doc["audit_path"]],
        head.root_hash,
    )


def test_key_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    directory = key_dir(tmp_path / "var")
    key = load_or_create_key(directory)
    path = directory / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load_or_create_key(directory)
    assert again.private_bytes_raw() == key.private_bytes_raw()
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_or_create_key(directory)


def test_schedule_issues_tree_heads(engine: Engine, ledger: Ledger) -> None:
    async def run() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(ledger.run_schedule(engine, 0.05, stop=stop))
        for _ in range(200):
            await asyncio.sleep(0.02)
            with engine.connect() as c:
                if len(tree_heads(c)) >= 3:
                    break
        stop.set()
        await asyncio.wait_for(task, timeout=5)

    asyncio.run(run())
    with engine.connect() as c:
        assert len(tree_heads(c)) >= 3


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches=st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=6))
def test_random_append_sequences_stay_consistent_in_sqlite(batches: list[int]) -> None:
    """Every STH issued between random appends is consistent with every later one,
    using proofs read from stored nodes; inclusion proofs hold for every leaf."""
    db = create_engine("sqlite://")
    upgrade(db)
    ledger = Ledger(load_or_create_key_in_memory())
    heads = []
    total = 0
    for n in batches:
        with db.begin() as c:
            ledger.append_many(c, entries(n, start=total))
        total += n
        heads.append(ledger.issue_sth_now(db))
    with db.connect() as c:
        for i, a in enumerate(heads):
            for b in heads[i:]:
                proof = ledger.consistency_proof(c, a.tree_size, b.tree_size)
                assert merkle.verify_consistency(
                    a.tree_size, b.tree_size, a.root_hash, b.root_hash, proof
                )
        hashes = leaf_hashes(db)
        last = heads[-1]
        for index in range(total):
            path = ledger.inclusion_proof(c, index, last.tree_size)
            assert merkle.verify_inclusion(index, total, hashes[index], path, last.root_hash)
    db.dispose()


def load_or_create_key_in_memory():  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate()


def test_concurrent_appends_are_serialised(engine: Engine, ledger: Ledger) -> None:
    """Four writers appending at once (plus STHs) leave a gap-free, verifiable tree."""
    import threading

    errors: list[BaseException] = []

    def writer(w: int) -> None:
        try:
            for i in range(15):
                with engine.begin() as c:
                    ledger.append(c, "grant_read", f"grant/{w}/read/{i}", {"n": i})
                if i % 5 == 0:
                    ledger.issue_sth_now(engine)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    hashes = leaf_hashes(engine)
    assert len(hashes) == 60
    tree = merkle.MemoryTree(hashes)
    with engine.connect() as c:
        assert ledger.root(c, 60) == tree.root()
        for head in tree_heads(c):
            assert head.root_hash == tree.root(head.tree_size)
