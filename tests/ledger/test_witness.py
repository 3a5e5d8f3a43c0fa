"""A witness on a loopback port countersigns every head and catches a truncated log.

The witness is the real HTTP server of ``tansuan ledger witness`` (a thread of the test
process, port chosen by the OS); clocks are injected (one second per call).
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, text

from tansuan.errors import LedgerError
from tansuan.ledger.anchors import AnchorFile, anchor_path
from tansuan.ledger.log import Ledger
from tansuan.ledger.signing import sign_tree_head
from tansuan.ledger.witness import (
    WITNESSED_FILE,
    Witness,
    check_countersignature,
    make_server,
    submit,
)

from . import readings_table
from .conftest import Clock
from .readings_table import ingest, make_rows
from .test_anchors import codes, db_heads, fill, put_head, rewrite_log, var, verify

__all__ = ["var"]  # the fixture, shared with test_anchors


@pytest.fixture
def witness(tmp_path: Path, var: Path) -> Iterator[tuple[str, Witness]]:
    """A witness for the log under ``var`` (its key made first), serving on 127.0.0.1."""
    log_key = Ledger.from_data_dir(var).public_key
    state = Witness(log_key, Ed25519PrivateKey.generate(), tmp_path / "witness")
    server = make_server(state, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", state
    server.shutdown()
    server.server_close()


def test_every_scheduled_head_is_countersigned(
    engine: Engine, var: Path, witness: tuple[str, Witness]
) -> None:
    """Heads after batches 0 and 1 (sizes 1 and 2) reach the witness, which keeps both
    and answers /v1/latest with the size-2 head and a countersignature that verifies under
    its key."""
    url, state = witness
    log = Ledger.from_data_dir(var, clock=Clock(), witness_url=url)
    fill(engine, log, range(2), heads_after={0, 1})
    kept, problems = AnchorFile(state.file.path).read()
    assert problems == [] and [h.tree_size for h in kept] == [1, 2]
    assert state.file.path.name == WITNESSED_FILE
    with urllib.request.urlopen(f"{url}/v1/latest", timeout=10) as response:  # noqa: S310
        answer = json.loads(response.read())
    head = check_countersignature(answer, state.key.public_key())
    assert head.to_json() == db_heads(engine)[-1].to_json()


def test_the_witness_refuses_forged_and_older_heads(
    engine: Engine, var: Path, witness: tuple[str, Witness]
) -> None:
    """A head signed by another key: 400. The size-1 head sent again after the size-2
    head: 409 (older than the newest witnessed). Each is a LedgerError naming the answer."""
    url, _ = witness
    log = Ledger.from_data_dir(var, clock=Clock(), witness_url=url)
    fill(engine, log, range(2), heads_after={0, 1})
    first = db_heads(engine)[0]
    forged = sign_tree_head(Ed25519PrivateKey.generate(), 5, first.root_hash, 10**13)
    with pytest.raises(LedgerError, match="400"):
        submit(url, forged)
    with pytest.raises(LedgerError, match="409"):
        submit(url, first)


def test_verify_against_the_witness_names_a_truncated_log(
    engine: Engine, var: Path, witness: tuple[str, Witness], tmp_path: Path
) -> None:
    """Heads at sizes 2 and 4 witnessed; the tail (leaves 2, 3, their readings, the size-4
    head) is cut and the local anchor file set aside. Against the witness's latest head
    (size 4) verify names the database's latest (size 2) as stale and 2 leaves missing."""
    url, _ = witness
    log = Ledger.from_data_dir(var, clock=Clock(), witness_url=url)
    fill(engine, log, range(4), heads_after={1, 3})
    assert verify("--witness", url)[0] == 0
    kept = db_heads(engine)[0]
    with engine.begin() as c:
        c.execute(text(f"DELETE FROM {readings_table.readings.name} WHERE batch_id >= 2"))
    rewrite_log(engine, keep=2)
    put_head(engine, kept)
    empty = tmp_path / "no-anchors.jsonl"
    empty.write_text("", "utf-8")
    code, out = verify("--witness", url, "--anchors", str(empty))
    assert code == 1, out
    assert codes(out) == {"sth_stale", "anchor_leaves_missing"}, out


def test_an_unreachable_witness_is_an_error_and_the_head_stays_anchored(
    engine: Engine, var: Path
) -> None:
    """No witness listens on the port: issuing fails loudly, naming the witness; the head
    is in the database and in the local anchor file all the same."""
    import socket

    with socket.socket() as s:  # a port nothing listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = Ledger.from_data_dir(var, clock=Clock(), witness_url=f"http://127.0.0.1:{port}")
    ingest(engine, log, 0, make_rows(0))
    with pytest.raises(LedgerError, match="见证方不可达 / the witness"):
        log.issue_sth_now(engine)
    anchored, _ = AnchorFile(anchor_path(var)).read()
    assert [h.tree_size for h in anchored] == [h.tree_size for h in db_heads(engine)] == [1]
