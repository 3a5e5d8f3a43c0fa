"""Tree heads anchored outside the database (docs/ledger.md, "Anchored tree heads").

Each tamper test plays someone who holds the database file but neither the log's key nor
the anchor file ``<data_dir>/ledger/anchors.jsonl``: they rewrite leaves (no key needed),
delete or replay tree heads, truncate the log. ``tansuan verify`` must name each, on
SQLite and PostgreSQL. Clocks are injected (one second per call, from 2026-03-01).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, delete, insert, select, text, update
from typer.testing import CliRunner

from tansuan.cli import app
from tansuan.ledger import schema
from tansuan.ledger.anchors import AnchorFile, anchor_path
from tansuan.ledger.api import receipt_for
from tansuan.ledger.log import Ledger, tree_heads
from tansuan.ledger.signing import TreeHead, sign_tree_head
from tansuan.settings import get_settings

from . import readings_table
from .conftest import Clock
from .readings_table import batch_rows, ingest, make_rows

BATCH_ROWS = f"{readings_table.__name__}:batch_rows"
DOC = (Path(__file__).resolve().parents[2] / "docs" / "ledger.md").read_text("utf-8")


@pytest.fixture
def var(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Settings pointing at the test database and a fresh data_dir."""
    monkeypatch.setenv("TANSUAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TANSUAN_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    yield tmp_path / "var"
    get_settings.cache_clear()


@pytest.fixture
def log(var: Path) -> Ledger:
    """The log as the platform opens it (anchor file under data_dir), on a fixed clock."""
    return Ledger.from_data_dir(var, clock=Clock())


def verify(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["verify", "--batch-rows", BATCH_ROWS, *args])
    return result.exit_code, result.output


def codes(out: str) -> set[str]:
    """The finding codes in verify's output (``中文 / code words: detail``)."""
    found = set()
    for line in out.splitlines():
        match = re.match(r"✗ \S+ / ([a-z ]+): ", line)
        if match:
            found.add(match.group(1).replace(" ", "_"))
    return found


def fill(engine: Engine, log: Ledger, batches: range, *, heads_after: set[int]) -> None:
    for b in batches:
        ingest(engine, log, b, make_rows(b))
        if b in heads_after:
            log.issue_sth_now(engine)


def rewrite_log(engine: Engine, *, keep: int | None = None) -> None:
    """The attacker's rewrite: leaves, nodes and heads deleted, then the first ``keep``
    leaves (all by default) appended again from the *current* data — each batch's leaf
    re-encoded from its stored readings — by a ledger with a key of their own. No head
    is issued."""
    with engine.begin() as c:
        leaves = list(c.execute(select(schema.leaves).order_by(schema.leaves.c.leaf_index)))
        c.execute(delete(schema.sths))
        c.execute(delete(schema.nodes))
        c.execute(delete(schema.leaves))
        c.execute(update(schema.state).values(tree_size=0, frontier=b""))
        forger = Ledger(Ed25519PrivateKey.generate(), clock=Clock())
        for leaf in leaves[:keep]:
            if leaf.kind == "ingest_batch":
                forger.ingest_hook(c, int(leaf.ref), batch_rows(c, int(leaf.ref)))
            else:
                forger.append(c, leaf.kind, leaf.ref, json.loads(leaf.payload))


def put_head(engine: Engine, head: TreeHead) -> None:
    with engine.begin() as c:
        c.execute(
            insert(schema.sths).values(
                tree_size=head.tree_size,
                timestamp_ms=head.timestamp_ms,
                root_hash=head.root_hash,
                signature=head.signature,
                key_id=head.key_id,
            )
        )


def log_dir(log: Ledger) -> Path:
    assert log.anchors is not None
    return log.anchors.path.parents[1]


def db_heads(engine: Engine) -> list[TreeHead]:
    with engine.connect() as c:
        return tree_heads(c)


def test_every_head_is_anchored_and_an_untouched_log_holds(
    engine: Engine, log: Ledger, var: Path
) -> None:
    """3 batches, a head after batches 1 and 2: the file holds those 2 heads, each line the
    head's JSON, in issue order; verify checks the database against both and passes."""
    fill(engine, log, range(3), heads_after={1, 2})
    anchored, problems = AnchorFile(anchor_path(var)).read()
    assert problems == []
    in_db = db_heads(engine)
    assert [h.tree_size for h in anchored] == [2, 3] == [h.tree_size for h in in_db]
    assert [h.to_json() for h in anchored] == [h.to_json() for h in in_db]
    code, out = verify()
    assert code == 0, out
    assert "checked against 2 锚定树头 anchored tree heads" in out


def test_a_head_in_a_rolled_back_transaction_is_not_anchored(
    engine: Engine, log: Ledger, var: Path
) -> None:
    """A head issued inside a transaction that rolls back is in neither place."""
    ingest(engine, log, 0, make_rows(0))
    with contextlib.suppress(RuntimeError), engine.begin() as c:
        log.issue_sth(c)
        raise RuntimeError("the caller's transaction fails")
    assert AnchorFile(anchor_path(var)).read() == ([], [])
    assert db_heads(engine) == []


def test_rewritten_leaf_with_every_head_deleted_is_named(engine: Engine, log: Ledger) -> None:
    """4 batches, heads at sizes 2 and 4. Batch 1's reading p0 at 00:04 (value 11.0) is set
    to 99.0, and the whole log rewritten from the data with every head deleted: the leaves
    agree with the data and with their own hashes, so without anchors verify would pass.
    The anchor file still holds both heads: each is missing from the database, the log has
    leaves but no head, and leaves 0…1 and 0…3 no longer hash to the anchored roots."""
    fill(engine, log, range(4), heads_after={1, 3})
    assert verify()[0] == 0
    table = readings_table.readings.name
    with engine.begin() as c:
        c.execute(text(f"UPDATE {table} SET value = 99.0 WHERE batch_id = 1 AND value = 11.0"))
    rewrite_log(engine)
    code, out = verify()
    assert code == 1, out
    assert codes(out) == {"sth_none", "anchor_head_missing", "anchor_root_mismatch"}, out
    assert "有叶子但无树头" in out and "4 leaves but no signed tree head" in out
    assert out.count("anchor head missing") == 2 and out.count("anchor root mismatch") == 2


def test_truncated_tail_with_its_heads_is_named(engine: Engine, log: Ledger) -> None:
    """4 batches, heads at sizes 2 and 4; the attacker cuts leaves 2 and 3 (and batches 2
    and 3's readings) and the size-4 head, keeping the size-2 head, which still holds for
    what remains. The anchored size-4 head names the cut: missing from the database, newer
    than the database's latest, and covering 4 leaves where 2 remain."""
    fill(engine, log, range(4), heads_after={1, 3})
    kept = db_heads(engine)[0]
    with engine.begin() as c:
        c.execute(text(f"DELETE FROM {readings_table.readings.name} WHERE batch_id >= 2"))
    rewrite_log(engine, keep=2)
    put_head(engine, kept)
    code, out = verify()
    assert code == 1, out
    assert codes(out) == {"anchor_head_missing", "sth_stale", "anchor_leaves_missing"}, out
    assert "covers 4 leaves; the database holds only 2" in out


def test_forged_heads_are_named(engine: Engine, log: Ledger, var: Path) -> None:
    """A head signed with another key is put in the database and appended to the anchor
    file (the same bytes, a later timestamp): both signatures fail under the log's key."""
    fill(engine, log, range(2), heads_after={1})
    real = db_heads(engine)[0]
    forged = sign_tree_head(
        Ed25519PrivateKey.generate(), real.tree_size, real.root_hash, real.timestamp_ms + 1000
    )
    put_head(engine, forged)
    AnchorFile(anchor_path(var)).append(forged)
    code, out = verify()
    assert code == 1, out
    assert {"sth_signature_invalid", "anchor_signature_invalid"} <= codes(out), out
    assert "锚定树头签名无效" in out


def test_replayed_old_head_is_named(engine: Engine, log: Ledger) -> None:
    """Heads at sizes 2 (older) and 4 (newer); the newer is deleted from the database and
    the older one inserted again as if just issued. The database's latest is then the
    size-2 head, older than the anchored size-4 head, which is missing."""
    fill(engine, log, range(4), heads_after={1, 3})
    old, new = db_heads(engine)
    with engine.begin() as c:
        c.execute(delete(schema.sths).where(schema.sths.c.sth_id == new.sth_id))
    put_head(engine, old)
    code, out = verify()
    assert code == 1, out
    assert codes(out) == {"anchor_head_missing", "sth_stale"}, out
    assert "数据库树头早于锚定树头" in out and "(size 2," in out


def test_own_head_from_a_receipt_is_checked_by_consistency_proof(
    engine: Engine, log: Ledger, tmp_path: Path
) -> None:
    """A verifier keeps the receipt for leaf 2 (its head: size 3). Two more batches and a
    head of size 5 follow. Their copy is consistent with the database's latest head.
    Then leaf 1 is rewritten with its stored tree nodes (the anchor file set aside with
    ``--anchors`` pointing at an empty file): the consistency proof from size 3 to 5 needs
    the node over leaves 0…1, which changed, so it no longer holds."""
    fill(engine, log, range(3), heads_after=set())
    with engine.begin() as c:
        receipt = receipt_for(log, c, 2)
    anchored, _ = AnchorFile(anchor_path(log_dir(log))).read()  # written at the commit
    assert [h.to_json() for h in anchored] == [receipt["sth"]]
    own = tmp_path / "receipt.json"
    own.write_text(json.dumps(receipt), "utf-8")
    fill(engine, log, range(3, 5), heads_after={4})
    code, out = verify("--head", str(own))
    assert code == 0, out

    heads = db_heads(engine)
    with engine.begin() as c:
        c.execute(text(f"UPDATE {readings_table.readings.name} SET value = 0.5 WHERE batch_id = 1"))
    rewrite_log(engine)
    for head in heads:  # the real heads put back: only the leaves and nodes were rewritten
        put_head(engine, head)
    empty = tmp_path / "no-anchors.jsonl"
    empty.write_text("", "utf-8")
    code, out = verify("--head", str(own), "--anchors", str(empty))
    assert code == 1, out
    assert {"head_inconsistent", "anchor_root_mismatch"} <= codes(out), out
    assert "(your copy) is not consistent with the database's latest STH (size 5" in out


def test_own_head_newer_than_the_database_is_named(
    engine: Engine, log: Ledger, tmp_path: Path
) -> None:
    """The verifier holds the size-2 head; the database was restored to a copy that only
    has the size-1 head (leaf 1 and its head removed): stale, and leaves missing."""
    fill(engine, log, range(2), heads_after={0, 1})
    first, second = db_heads(engine)
    own = tmp_path / "sth.json"
    own.write_text(json.dumps(second.to_json()), "utf-8")
    with engine.begin() as c:
        c.execute(text(f"DELETE FROM {readings_table.readings.name} WHERE batch_id = 1"))
    rewrite_log(engine, keep=1)
    put_head(engine, first)
    empty = tmp_path / "no-anchors.jsonl"
    empty.write_text("", "utf-8")
    code, out = verify("--head", str(own), "--anchors", str(empty))
    assert code == 1, out
    assert codes(out) == {"sth_stale", "anchor_leaves_missing"}, out


def test_an_unreadable_anchor_line_is_named(engine: Engine, log: Ledger, var: Path) -> None:
    fill(engine, log, range(1), heads_after={0})
    with anchor_path(var).open("a", encoding="utf-8") as handle:
        handle.write("{not a head\n")
    code, out = verify()
    assert code == 1 and codes(out) == {"anchor_unreadable"}, out
    assert "line 2" in out


def test_every_anchor_finding_is_documented() -> None:
    from tansuan.ledger.verify_anchors import ANCHOR_LABELS_ZH

    for code, label in ANCHOR_LABELS_ZH.items():
        assert f"| `{code}` | {label} |" in DOC, code
    assert "anchors.jsonl" in DOC and "tansuan verify --head" in DOC


def test_sign_pending_issues_a_head_only_after_appends(engine: Engine, log: Ledger) -> None:
    """What a command that appends leaves calls at its end: a head after the appends, none
    when nothing was appended since."""
    assert log.sign_pending(engine) is None
    ingest(engine, log, 0, make_rows(0))
    head = log.sign_pending(engine)
    assert head is not None and head.tree_size == 1
    assert log.sign_pending(engine) is None


def test_a_command_that_appends_signs_at_its_end(
    db_url: str, tmp_path: Path, examples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command opens the platform, ingests one reading (one leaf) and closes it, as
    ``tansuan data import`` does: closing issues a head of size 1, in the database and in
    the anchor file. Closing a platform that appended nothing issues none."""
    import datetime as dt

    from tansuan.ingest.reading import Reading
    from tansuan.platform import open_platform
    from tansuan.site.validate import load

    var = tmp_path / "var"
    monkeypatch.setenv("TANSUAN_DATA_DIR", str(var))
    monkeypatch.setenv("TANSUAN_DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        platform = open_platform()
        platform.ledger.clock = Clock()
        platform.store.load_model(load(examples / "site.yaml"))
        t0 = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
        platform.sink([Reading("demo-site", "grid.energy", t0, 1000.0)])
        engine = platform.store.engine
        assert db_heads(engine) == []
        platform.close()
        idle = open_platform()
        idle.close()
    finally:
        get_settings.cache_clear()
    heads = db_heads_after(db_url)
    assert [h.tree_size for h in heads] == [1]
    anchored, _ = AnchorFile(anchor_path(var)).read()
    assert [h.to_json() for h in anchored] == [h.to_json() for h in heads]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_stand_alone_gateway_issues_anchored_heads(
    db_url: str, tmp_path: Path, examples: Path
) -> None:
    """``tansuan gateway hj212`` as its own process, heads every 0.2 s: after one upload over
    a real TCP socket, a head of size ≥ 1 appears in the database and the same head in
    the anchor file."""
    from tansuan.gateways.hj212.client import Hj212Client
    from tansuan.site.validate import load
    from tansuan.store import Store

    port = _free_port()
    var = tmp_path / "var"
    env = {
        "TANSUAN_DATA_DIR": str(var),
        "TANSUAN_DATABASE_URL": db_url,
        "TANSUAN_HJ212_PORT": str(port),
        "TANSUAN_LEDGER_STH_INTERVAL_S": "0.2",
    }
    store = Store(db_url)
    store.load_model(load(examples / "site.yaml"))
    engine = store.engine
    process = subprocess.Popen(
        [sys.executable, "-m", "tansuan.cli", "gateway", "hj212"]
        + ["--site-model", str(examples / "site.yaml")],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"gateway did not start: {process.stderr!r}")
            time.sleep(0.1)

        async def upload() -> None:
            client = Hj212Client(
                "127.0.0.1", port, mn="88888880000001", pw="123456", timeout_s=10, retries=0
            )
            async with client:
                answer = await client.upload(
                    "2051", "20240301100000", {"a05001": {"Avg": 180000.5, "Flag": "N"}}
                )
            assert answer is not None and answer.cn == "9014"

        asyncio.run(upload())
        while not any(h.tree_size >= 1 for h in db_heads(engine)):
            assert time.monotonic() < deadline, "no tree head covering the upload"
            time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()
        store.close()
    anchored, problems = AnchorFile(anchor_path(var)).read()
    assert problems == []
    signed = [h for h in anchored if h.tree_size >= 1]
    assert signed, anchored
    stored = {(h.tree_size, h.timestamp_ms, h.root_hash) for h in db_heads_after(db_url)}
    assert (signed[0].tree_size, signed[0].timestamp_ms, signed[0].root_hash) in stored


def db_heads_after(db_url: str) -> list[TreeHead]:
    from sqlalchemy import create_engine

    engine = create_engine(db_url)
    try:
        return db_heads(engine)
    finally:
        engine.dispose()
