"""Evidence files bound to their leaves (docs/ledger.md, "Evidence").

Each ``evidence`` row (:mod:`tansuan.store.evidence`) was inserted in the transaction that
appended its ``evidence`` leaf, whose payload carries every column. :func:`verify_evidence`
compares each stored row with its leaf and hashes each file's bytes in the blob store
against the SHA-256 the leaf logs: a changed row, a deleted row, a row no leaf logs, a
changed file and a missing file are each a named finding.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from tansuan.errors import NotFound, StoreError
from tansuan.store.evidence import LEAF_KIND, BlobStore, blob_store, evidence_payload, list_evidence
from tansuan.store.schema import ledger_leaves

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from tansuan.ledger.verify import Outcome

#: zh-CN labels of the findings this module adds (merged into verify's LABELS_ZH).
LABELS_ZH = {
    "evidence_changed": "存证记录被修改",
    "evidence_removed": "存证记录被删除",
    "evidence_unlogged": "存证未记入账本",
    "evidence_file_changed": "存证文件被修改",
    "evidence_file_missing": "存证文件缺失",
    "evidence_store_error": "存证存储无法读取",
}


def _logged(connection: Connection, outcome: Outcome) -> dict[int, tuple[int, dict[str, Any]]]:
    t = ledger_leaves
    logged: dict[int, tuple[int, dict[str, Any]]] = {}
    rows = connection.execute(
        t.select().with_only_columns(t.c.leaf_index, t.c.payload).where(t.c.kind == LEAF_KIND)
    )
    for leaf in rows:
        try:
            payload = json.loads(leaf.payload)
            logged[int(payload["id"])] = (int(leaf.leaf_index), payload)
        except (ValueError, KeyError, TypeError):
            outcome.add(
                "evidence_changed", f"leaf {leaf.leaf_index}: payload is not an evidence record"
            )
    return logged


def _name(payload: dict[str, Any]) -> str:
    return (
        f"evidence {payload.get('site')}/{payload.get('id')} {payload.get('filename')!r} "
        f"({payload.get('target_kind')} {payload.get('target_ref')})"
    )


def verify_evidence(connection: Connection, outcome: Outcome, blobs: BlobStore | None) -> None:
    """Check every evidence row against its leaf and every logged file's bytes against
    its SHA-256 (``blobs``: the blob store; None for the configured one)."""
    logged = _logged(connection, outcome)
    stored = {item.id: item for item in list_evidence(connection, None)}
    if not logged and not stored:
        return
    for evidence_id, item in sorted(stored.items()):
        row = evidence_payload(item)
        found = logged.get(evidence_id)
        if found is None:
            outcome.add(
                "evidence_unlogged",
                f"{_name(row)} (SHA-256 {item.sha256[:16]}…) has no leaf: inserted outside "
                "an upload",
            )
            continue
        index, payload = found
        changes = [
            f"{key} {payload.get(key)!r} → {value!r}"
            for key, value in row.items()
            if payload.get(key) != value
        ]
        if changes:
            outcome.add(
                "evidence_changed", f"{_name(payload)}: {'; '.join(changes)} (leaf {index})"
            )
    for evidence_id in sorted(logged.keys() - stored.keys()):
        index, payload = logged[evidence_id]
        outcome.add("evidence_removed", f"{_name(payload)} was deleted (leaf {index})")
    store = blobs if blobs is not None else blob_store()
    files: dict[str, tuple[int, dict[str, Any]]] = {}
    for index, payload in sorted(logged.values(), key=lambda found: found[0]):
        files.setdefault(str(payload.get("sha256")), (index, payload))
    checked = 0
    for sha256, (index, payload) in sorted(files.items()):
        try:
            data = store.get(sha256)
        except NotFound:
            outcome.add(
                "evidence_file_missing",
                f"{_name(payload)}: file {sha256} is gone from the evidence store (leaf {index})",
            )
            continue
        except (StoreError, OSError, ValueError) as error:
            outcome.add(
                "evidence_store_error", f"{_name(payload)}: cannot read file {sha256}: {error}"
            )
            continue
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            outcome.add(
                "evidence_file_changed",
                f"{_name(payload)}: the stored file's bytes hash to {actual[:16]}…, not the "
                f"logged {sha256[:16]}… ({len(data)} bytes, logged {payload.get('size')}) "
                f"(leaf {index})",
            )
        checked += 1
    outcome.notes.append(
        f"{len(stored)} evidence records, {checked} files hashed / 存证记录 {len(stored)} 条，"
        f"校验文件 {checked} 个"
    )
