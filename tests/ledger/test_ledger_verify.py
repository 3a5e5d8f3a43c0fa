"""``verify`` recomputes everything and names what was changed, added, removed or moved.

Each test tampers the way an insider with database access would: plain SQL.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from tansuan.ledger.log import Ledger
from tansuan.ledger.sources import ExportSource, LiveSource, write_export
from tansuan.ledger.verify import Outcome, verify_source

from .readings_table import ingest, make_rows, readings


def build(engine: Engine, ledger: Ledger, n_batches: int = 6) -> None:
    """Batches 100…, one leaf each, an STH after every second batch, plus a report leaf."""
    for b in range(n_batches):
        ingest(engine, ledger, 100 + b, make_rows(b))
        if b % 2 == 1:
            ledger.issue_sth_now(engine)
    with engine.begin() as c:
        ledger.append(c, "report", "report/2026-01", {"report_id": "2026-01", "sha256": "0" * 64})
    ledger.issue_sth_now(engine)


def run(engine: Engine, ledger: Ledger) -> Outcome:
    from .readings_table import batch_rows

    with engine.connect() as c:
        return verify_source(LiveSource(c, batch_rows, ledger.public_key))


def details(outcome: Outcome) -> list[str]:
    return [f"{f.code}: {f.detail}" for f in outcome.findings]


def test_untouched_log_verifies(engine: Engine, ledger: Ledger) -> None:
    build(engine, ledger)
    outcome = run(engine, ledger)
    assert outcome.ok, details(outcome)
    assert (outcome.leaves, outcome.readings, outcome.tree_heads) == (7, 72, 4)


def test_changed_value_is_named(engine: Engine, ledger: Ledger) -> None:
    """make_rows(2): point p1 at minute 2·4 + 1 = 9 has value 10 + 2 + 0.1 + 0.01 = 12.11."""
    build(engine, ledger)
    with engine.begin() as c:
        c.execute(
            text(
                f"UPDATE {readings.name} SET value = 13.5 WHERE batch_id = 102 AND "
                "point_id = 'p1' AND ts_us = 1767226140000000"
            )
        )
    outcome = run(engine, ledger)
    assert details(outcome) == [
        "reading_changed: reading site=s1 point=p1 ts=2026-01-01T00:09:00Z version=1: "
        "value changed 12.11 → 13.5 (batch 102, leaf 2)"
    ]


def test_deleted_and_added_readings_are_named(engine: Engine, ledger: Ledger) -> None:
    """make_rows(4): p0 at minute 16 is 10 + 4 + 0 + 0 = 14.0."""
    build(engine, ledger)
    with engine.begin() as c:
        c.execute(
            text(
                f"DELETE FROM {readings.name} WHERE batch_id = 104 AND point_id = 'p0' "
                "AND ts_us = 1767226560000000"
            )
        )
        c.execute(
            text(
                f"INSERT INTO {readings.name} (point_id, ts_us, version, site_id, value, quality, "
                "batch_id) VALUES ('p9', 1767226560000000, 1, 's1', 99.5, 'N', 104)"
            )
        )
    found = details(run(engine, ledger))
    assert found == [
        "reading_removed: reading site=s1 point=p0 ts=2026-01-01T00:16:00Z version=1 removed "
        "(was 14.0) (batch 104, leaf 4)",
        "reading_added: reading site=s1 point=p9 ts=2026-01-01T00:16:00Z version=1 added "
        "(value 99.5) (batch 104, leaf 4)",
    ]


def test_swapped_leaves_are_named_as_an_order_change(engine: Engine, ledger: Ledger) -> None:
    """Moving whole leaf rows (hash included) keeps each leaf self-consistent; only the
    signed tree can tell — and the stored nodes locate the swap."""
    build(engine, ledger)
    with engine.begin() as c:
        c.execute(text("UPDATE ledger_leaves SET leaf_index = -1 WHERE leaf_index = 1"))
        c.execute(text("UPDATE ledger_leaves SET leaf_index = 1 WHERE leaf_index = 4"))
        c.execute(text("UPDATE ledger_leaves SET leaf_index = 4 WHERE leaf_index = -1"))
    found = details(run(engine, ledger))
    assert (
        "leaf_reordered: leaves 1 and 4 swapped places: leaf 1 now holds ingest_batch 104 "
        "(signed at leaf 4), leaf 4 holds ingest_batch 101 (signed at leaf 1)"
    ) in found
    assert all(f.startswith(("leaf_reordered", "root_mismatch")) for f in found), found


def test_deleted_leaf_is_named(engine: Engine, ledger: Ledger) -> None:
    build(engine, ledger)
    with engine.begin() as c:
        c.execute(text("DELETE FROM ledger_leaves WHERE leaf_index = 3"))
        c.execute(text("UPDATE ledger_leaves SET ref = '999' WHERE leaf_index = 4"))
        c.execute(text("DELETE FROM ledger_leaves WHERE leaf_index = 6"))
    found = details(run(engine, ledger))
    assert found == [
        "leaf_hash_mismatch: leaf 4 (ingest_batch 999): stored leaf hash does not match its "
        "kind, ref and payload (the leaf was edited)",
        "leaf_missing: leaf 3 missing",
        "leaf_missing: leaf 6 missing",
    ]


def test_edited_leaf_payload_is_named(engine: Engine, ledger: Ledger) -> None:
    build(engine, ledger)
    with engine.begin() as c:
        c.execute(
            text(
                "UPDATE ledger_leaves SET payload = replace(payload, '\"0000', '\"1111') "
                "WHERE leaf_index = 6"
            )
        )
    found = details(run(engine, ledger))
    assert found[0] == (
        "leaf_hash_mismatch: leaf 6 (report report/2026-01): stored leaf hash does not match "
        "its kind, ref and payload (the leaf was edited)"
    )
    assert all(f.startswith(("leaf_hash_mismatch", "root_mismatch")) for f in found), found


def test_tampered_signature_is_named(engine: Engine, ledger: Ledger) -> None:
    build(engine, ledger)
    with engine.begin() as c:
        sig = bytes(c.execute(text("SELECT signature FROM ledger_sth WHERE sth_id = 2")).scalar())
        forged = bytes([sig[0] ^ 1]) + sig[1:]
        c.execute(text("UPDATE ledger_sth SET signature = :s WHERE sth_id = 2"), {"s": forged})
    found = details(run(engine, ledger))
    assert len(found) == 1
    assert found[0].startswith("sth_signature_invalid: STH #2 (size 4, ")
    assert found[0].endswith("signature does not verify with the log's public key")


def test_rewritten_history_is_named(engine: Engine, ledger: Ledger) -> None:
    """Re-hash a changed leaf and every node above it, and re-sign the newest head: the
    older heads still catch it, and the consistency check names the rewrite."""
    build(engine, ledger)
    from .readings_table import batch_rows

    with engine.begin() as c:
        c.execute(text(f"UPDATE {readings.name} SET value = 0.5 WHERE batch_id = 100"))
        c.execute(text("DELETE FROM ledger_leaves"))
        c.execute(text("DELETE FROM ledger_nodes"))
        c.execute(text("DELETE FROM ledger_state"))
        c.execute(text("DELETE FROM ledger_sth WHERE sth_id = 4"))
        for b in range(6):
            ledger.ingest_hook(c, 100 + b, batch_rows(c, 100 + b))
        ledger.append(c, "report", "report/2026-01", {"report_id": "2026-01", "sha256": "0" * 64})
        ledger.issue_sth(c)
    found = details(run(engine, ledger))
    codes = {f.split(":")[0] for f in found}
    assert codes == {"root_mismatch", "sth_inconsistent", "tree_unlocalised"}, found
    assert any(f.startswith("sth_inconsistent: STH #3 (size 6") for f in found), found
    unlocalised = [f for f in found if f.startswith("tree_unlocalised")]
    assert unlocalised == [
        "tree_unlocalised: leaves 0…1 differ from STH #1; stored tree nodes were altered "
        "too, so the change cannot be narrowed further"
    ]


def test_export_verifies_offline_and_names_edits(
    engine: Engine, ledger: Ledger, tmp_path: Path
) -> None:
    from .readings_table import batch_rows

    build(engine, ledger)
    out = tmp_path / "export"
    with engine.connect() as c:
        manifest = write_export(LiveSource(c, batch_rows, ledger.public_key), out)
    assert manifest["leaves"] == 7 and manifest["readings"] == 72
    assert verify_source(ExportSource(out)).ok
    lines = (out / "readings.jsonl").read_text("utf-8").splitlines()
    doc = json.loads(lines[5])
    doc["readings"][0][3] = 1e9
    lines[5] = json.dumps(doc)
    (out / "readings.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    found = details(verify_source(ExportSource(out)))
    assert found == [
        "reading_changed: reading site=s1 point=p0 ts=2026-01-01T00:20:00Z version=1: value "
        "changed 15.0 → 1000000000.0 (batch 105, leaf 5)"
    ]


def test_export_refuses_a_non_empty_folder(engine: Engine, ledger: Ledger, tmp_path: Path) -> None:
    from tansuan.errors import InputError

    from .readings_table import batch_rows

    (tmp_path / "keep.txt").write_text("x")
    with engine.connect() as c, pytest.raises(InputError, match="not empty"):
        write_export(LiveSource(c, batch_rows, ledger.public_key), tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "x"


def test_batch_added_without_a_leaf_is_named(engine: Engine, ledger: Ledger) -> None:
    from .readings_table import batch_ids, batch_rows

    build(engine, ledger, n_batches=2)
    with engine.begin() as c:
        c.execute(
            text(
                f"INSERT INTO {readings.name} (point_id, ts_us, version, site_id, value, quality, "
                "batch_id) VALUES ('p0', 1767229200000000, 1, 's1', 1.0, 'N', 555)"
            )
        )
    with engine.connect() as c:
        outcome = verify_source(LiveSource(c, batch_rows, ledger.public_key, batch_ids=batch_ids))
    assert details(outcome) == [
        "batch_unlogged: batch 555 holds 1 readings but no leaf logs it (added afterwards)"
    ]


def test_unreadable_value_is_named(engine: Engine, ledger: Ledger) -> None:
    """A value overwritten with NaN cannot be re-encoded: the batch is named, no crash."""
    build(engine, ledger, n_batches=2)
    with engine.begin() as c:
        c.execute(
            text(
                f"UPDATE {readings.name} SET value = 'NaN' WHERE batch_id = 101 AND "
                "point_id = 'p0' AND ts_us = 1767225840000000"
            )
        )
    found = details(run(engine, ledger))
    assert found == [
        "batch_changed: batch 101, leaf 1: stored readings are unreadable: rows: a reading "
        "value is NaN or infinite"
    ]


def test_leaves_newer_than_the_latest_sth_are_noted(engine: Engine, ledger: Ledger) -> None:
    build(engine, ledger, n_batches=2)
    ingest(engine, ledger, 900, make_rows(9))
    outcome = run(engine, ledger)
    assert outcome.ok
    assert outcome.notes == [
        "1 leaves are newer than the latest signed tree head: checked against their data, "
        "not yet signed / 最新叶子尚未签名"
    ]


def test_swapped_readings_are_named(engine: Engine, ledger: Ledger) -> None:
    """Exchange the values of p2 at minutes 12 and 13 in batch 103 (make_rows(3): 10 + 3 +
    0.2 + 0.00 = 13.2 and 13.21): both readings are named with old and new values."""
    build(engine, ledger)
    t12, t13 = 1767225600000000 + 12 * 60_000_000, 1767225600000000 + 13 * 60_000_000
    with engine.begin() as c:
        c.execute(
            text(
                f"UPDATE {readings.name} SET value = CASE ts_us WHEN {t12} THEN 13.21 "
                f"ELSE 13.2 END WHERE batch_id = 103 AND point_id = 'p2' "
                f"AND ts_us IN ({t12}, {t13})"
            )
        )
    assert details(run(engine, ledger)) == [
        "reading_changed: reading site=s1 point=p2 ts=2026-01-01T00:12:00Z version=1: value "
        "changed 13.2 → 13.21 (batch 103, leaf 3)",
        "reading_changed: reading site=s1 point=p2 ts=2026-01-01T00:13:00Z version=1: value "
        "changed 13.21 → 13.2 (batch 103, leaf 3)",
    ]
