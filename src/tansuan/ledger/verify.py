"""Recompute a log from its data and name every difference (``tansuan verify``).

Three layers, each checked independently:

1. **data → leaf**: every ingest batch's readings, read back from the store (or export),
   are re-encoded and compared with the readings record the leaf signed; a difference is
   named per reading (changed value or quality, removed, added).
2. **leaf → tree**: every leaf hash is recomputed from its kind, ref and payload; the
   tree is rebuilt; every STH's root must match, every signature must verify, and each STH
   must be consistent with the one before it. When a root does not match, the stored
   interior nodes that still chain up to the signed root locate the leaves that differ,
   and swapped leaves are named as an order change.
3. **receipt**: one report's receipt (:func:`verify_receipt`).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tansuan.errors import InputError
from tansuan.ledger import merkle
from tansuan.ledger.bound import LABELS_ZH as BOUND_LABELS_ZH
from tansuan.ledger.bound import verify_bound
from tansuan.ledger.canonical import (
    Record,
    decode_readings,
    describe_reading,
    encode_readings,
    envelope,
    sha256_hex,
    us_to_iso,
)
from tansuan.ledger.evidence_check import LABELS_ZH as EVIDENCE_LABELS_ZH
from tansuan.ledger.evidence_check import verify_evidence
from tansuan.ledger.inputs import LABELS_ZH as INPUTS_LABELS_ZH
from tansuan.ledger.inputs import verify_inputs
from tansuan.ledger.log import Leaf
from tansuan.ledger.signing import TreeHead, key_id, load_public_key, unb64
from tansuan.ledger.sources import Source
from tansuan.ledger.verify_rollups import LABELS_ZH as ROLLUP_LABELS_ZH
from tansuan.ledger.verify_rollups import verify_rollups

#: zh-CN label of each finding code (the detail text is English with the exact values).
LABELS_ZH = {
    "reading_changed": "读数被修改",
    "reading_removed": "读数被删除",
    "reading_added": "读数被添加",
    "batch_changed": "批次数据不符",
    "batch_unlogged": "批次未记入账本",
    "body_mismatch": "读数记录被篡改",
    "leaf_hash_mismatch": "叶子内容被修改",
    "leaf_missing": "叶子缺失",
    "leaf_changed": "叶子与签名不符",
    "leaf_reordered": "叶子顺序被改变",
    "tree_unlocalised": "树节点被篡改",
    "root_mismatch": "根哈希不符",
    "sth_signature_invalid": "签名无效",
    "sth_key_mismatch": "签名密钥不符",
    "sth_inconsistent": "树头不一致",
    "receipt_invalid": "回执无效",
    "document_mismatch": "文件与回执不符",
}
LABELS_ZH.update(BOUND_LABELS_ZH)
LABELS_ZH.update(EVIDENCE_LABELS_ZH)
LABELS_ZH.update(INPUTS_LABELS_ZH)
LABELS_ZH.update(ROLLUP_LABELS_ZH)


@dataclass(frozen=True)
class Finding:
    """One thing that does not hold. ``detail`` names what, where and the values."""

    code: str
    detail: str

    @property
    def label_zh(self) -> str:
        return LABELS_ZH.get(self.code, self.code)

    def __str__(self) -> str:
        return f"{self.label_zh} / {self.code.replace('_', ' ')}: {self.detail}"


@dataclass
class Outcome:
    """What a verification checked and found. ``ok`` only when nothing was found."""

    findings: list[Finding] = field(default_factory=list)
    leaves: int = 0
    readings: int = 0
    tree_heads: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def add(self, code: str, detail: str) -> None:
        self.findings.append(Finding(code, detail))


def _leaf_name(leaf: Leaf) -> str:
    return f"leaf {leaf.leaf_index} ({leaf.kind} {leaf.ref})"


def _fmt(value: float) -> str:
    return repr(float(value))


def diff_readings(
    logged: Sequence[Record], current: Sequence[Record], where: str, outcome: Outcome
) -> None:
    """Name every reading that changed, vanished or appeared between two records."""
    old_count = Counter(r.key for r in logged)
    new_count = Counter(r.key for r in current)
    old = {r.key: r for r in logged}
    new = {r.key: r for r in current}
    for key in sorted(old.keys() | new.keys()):
        name = f"reading {describe_reading(key)}"
        if key not in new:
            outcome.add("reading_removed", f"{name} removed (was {_fmt(old[key].value)}) ({where})")
        elif key not in old:
            outcome.add("reading_added", f"{name} added (value {_fmt(new[key].value)}) ({where})")
        else:
            a, b = old[key], new[key]
            changes = []
            if a.value != b.value or str(a.value) != str(b.value):
                changes.append(f"value changed {_fmt(a.value)} → {_fmt(b.value)}")
            if a.quality != b.quality:
                changes.append(f"quality changed {a.quality} → {b.quality}")
            if old_count[key] != new_count[key]:
                changes.append(f"stored {new_count[key]} times (logged {old_count[key]})")
            if changes:
                outcome.add("reading_changed", f"{name}: {'; '.join(changes)} ({where})")


def _check_batch(source: Source, leaf: Leaf, outcome: Outcome) -> int | None:
    """Compare one ingest batch's current data with its signed record; return its id."""
    try:
        payload = json.loads(leaf.payload)
        batch_id = int(payload["batch_id"])
        digest = str(payload["readings_sha256"])
    except (ValueError, KeyError, TypeError):
        outcome.add("leaf_hash_mismatch", f"{_leaf_name(leaf)}: payload is not an ingest batch")
        return None
    where = f"batch {batch_id}, leaf {leaf.leaf_index}"
    rows = source.batch_rows(batch_id)
    outcome.readings += len(rows)
    try:
        current = encode_readings(rows)
    except InputError as error:  # e.g. a value overwritten with NaN
        outcome.add("batch_changed", f"{where}: stored readings are unreadable: {error}")
        return batch_id
    if sha256_hex(current) == digest:
        return batch_id
    if leaf.body is None or sha256_hex(leaf.body) != digest:
        outcome.add(
            "body_mismatch",
            f"{where}: the stored readings record does not match the signed digest, and the "
            f"batch's {len(rows)} stored readings do not match it either",
        )
        return batch_id
    before = len(outcome.findings)
    diff_readings(decode_readings(leaf.body), decode_readings(current), where, outcome)
    if len(outcome.findings) == before:  # e.g. -0.0 vs 0.0: bytes differ, values equal
        outcome.add("batch_changed", f"{where}: readings differ from the logged record")
    return batch_id


def _swap_pairs(
    candidates: list[tuple[int, int, bytes]], hashes: list[bytes]
) -> list[tuple[int, int]]:
    """Pairs of leaf positions whose swap makes every affected signed subtree match."""
    positions = sorted({i for start, end, _ in candidates for i in range(start, end)})
    if len(positions) > 64:
        return []

    def matches(trial: list[bytes]) -> set[int]:
        good = set()
        for n, (start, end, expected) in enumerate(candidates):
            if merkle.MemoryTree(trial[start:end]).root() == expected:
                good.add(n)
        return good

    swaps: list[tuple[int, int]] = []
    used: set[int] = set()
    baseline = matches(hashes)
    for i, j in itertools.combinations(positions, 2):
        if i in used or j in used or hashes[i] == hashes[j]:
            continue
        trial = list(hashes)
        trial[i], trial[j] = trial[j], trial[i]
        if len(matches(trial)) > len(baseline):
            hashes[i], hashes[j] = hashes[j], hashes[i]
            baseline = matches(hashes)
            swaps.append((i, j))
            used |= {i, j}
    return swaps


def _suspects(
    source: Source, head: TreeHead, tree: merkle.MemoryTree
) -> list[tuple[int, int, bytes, TreeHead]]:
    """The smallest ranges whose signed hash ``head`` vouches for and the data misses.

    Descends from the signed root through stored nodes as long as they still hash up to
    what is already trusted; a leaf range (size 1) means that leaf differs, a wider range
    means the stored nodes below it were altered too.
    """
    found: list[tuple[int, int, bytes, TreeHead]] = []

    def stored(start: int, end: int) -> bytes | None:
        parts = [source.node(b) for b in merkle.range_blocks(start, end)]
        if any(p is None for p in parts):
            return None
        return merkle.fold([p for p in parts if p is not None])

    def walk(start: int, end: int, expected: bytes) -> None:
        if tree.range_hash(start, end) == expected:
            return
        if end - start == 1:
            found.append((start, end, expected, head))
            return
        k = merkle.split_point(end - start)
        left, right = stored(start, start + k), stored(start + k, end)
        if left is None or right is None or merkle.node_hash(left, right) != expected:
            found.append((start, end, expected, head))
            return
        walk(start, start + k, left)
        walk(start + k, end, right)

    walk(0, head.tree_size, head.root_hash)
    return found


def _localise(
    source: Source,
    heads: list[TreeHead],
    tree: merkle.MemoryTree,
    labels: dict[int, str],
    named: set[int],
    outcome: Outcome,
) -> None:
    """Name the leaves that differ from what the (mismatching) ``heads`` signed."""
    suspects = [s for head in heads for s in _suspects(source, head, tree)]
    hashes = list(tree.levels[0])
    for i, j in _swap_pairs([(a, b, e) for a, b, e, _ in suspects], hashes):
        outcome.add(
            "leaf_reordered",
            f"leaves {i} and {j} swapped places: leaf {i} now holds {labels[i]} "
            f"(signed at leaf {j}), leaf {j} holds {labels[j]} (signed at leaf {i})",
        )
        named |= {i, j}
    narrowed: list[tuple[int, int]] = []
    for start, end, expected, head in sorted(suspects, key=lambda s: (s[1] - s[0], s[0])):
        sth = f"STH #{head.sth_id}" if head.sth_id is not None else f"STH of {head.tree_size}"
        if all(i in named for i in range(start, end)):
            continue
        if merkle.MemoryTree(hashes[start:end]).root() == expected:
            continue
        if end - start == 1:
            named.add(start)
            outcome.add(
                "leaf_changed",
                f"leaf {start} ({labels[start]}) differs from the leaf signed in {sth}",
            )
        elif not any(start <= a and b <= end for a, b in narrowed):
            narrowed.append((start, end))
            outcome.add(
                "tree_unlocalised",
                f"leaves {start}…{end - 1} differ from {sth}; stored tree nodes were altered "
                "too, so the change cannot be narrowed further",
            )


def _describe_head(head: TreeHead) -> str:
    when = us_to_iso(head.timestamp_ms * 1000)
    number = f"#{head.sth_id} " if head.sth_id is not None else ""
    return f"STH {number}(size {head.tree_size}, {when})"


def verify_source(
    source: Source,
    *,
    progress: Callable[[int], None] | None = None,
    sample: int | None = None,
    seed: int | None = None,
) -> Outcome:
    """Recompute everything in ``source``; every difference becomes a :class:`Finding`.

    On a live database the rollups are recomputed from the readings too
    (:func:`~tansuan.ledger.verify_rollups.verify_rollups`): all of them, or ``sample``
    day × point cells drawn with ``seed``.

    Streams the leaves: roots are recomputed on the fly with a frontier (O(log n) memory);
    the full tree is built only when a signed root does not match and the verifier has to
    locate what changed. Memory otherwise: 32 bytes and a short label a leaf.
    """
    outcome = Outcome()
    heads = source.tree_heads()
    outcome.tree_heads = len(heads)
    sizes = {head.tree_size for head in heads}
    roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT}
    frontier = merkle.Frontier()
    intact = True  # no gap and every leaf readable so far: roots can be recomputed
    packed = bytearray()
    labels: dict[int, str] = {}
    missing: list[int] = []
    edited: set[int] = set()
    logged_batches: set[int | None] = set()
    for leaf in source.leaves():
        while len(labels) + len(missing) < leaf.leaf_index:  # a gap: leaves deleted
            missing.append(len(labels) + len(missing))
            packed += bytes(merkle.HASH_SIZE)
            intact = False
        try:
            hash_ = merkle.leaf_hash(envelope(leaf.kind, leaf.ref, leaf.payload))
        except InputError as error:
            outcome.add("leaf_hash_mismatch", f"{_leaf_name(leaf)}: {error}")
            hash_, intact = bytes(merkle.HASH_SIZE), False
            edited.add(leaf.leaf_index)
        if leaf.leaf_index not in edited and hash_ != leaf.leaf_hash:
            outcome.add(
                "leaf_hash_mismatch",
                f"{_leaf_name(leaf)}: stored leaf hash does not match its kind, ref and payload "
                "(the leaf was edited)",
            )
            edited.add(leaf.leaf_index)
        packed += hash_
        labels[leaf.leaf_index] = f"{leaf.kind} {leaf.ref}"
        if intact:
            frontier.append(hash_)
            if frontier.size in sizes:
                roots[frontier.size] = frontier.root()
        if leaf.kind == "ingest_batch":
            logged_batches.add(_check_batch(source, leaf, outcome))
        outcome.leaves += 1
        if progress is not None:
            progress(1)
    n_leaves = len(packed) // merkle.HASH_SIZE

    for batch_id in sorted(source.batch_ids() or ()):
        if batch_id not in logged_batches:
            count = len(source.batch_rows(batch_id))
            outcome.add(
                "batch_unlogged",
                f"batch {batch_id} holds {count} readings but no leaf logs it (added afterwards)",
            )

    last_size = max(sizes, default=0)
    if heads and n_leaves > last_size:
        outcome.notes.append(
            f"{n_leaves - last_size} leaves are newer than the latest signed tree head: "
            "checked against their data, not yet signed / 最新叶子尚未签名"
        )
    missing.extend(range(n_leaves, last_size))
    for index in missing:
        outcome.add("leaf_missing", f"leaf {index} missing")
    if not intact:
        outcome.notes.append("some roots not recomputed: leaves are missing or unreadable")

    expected_key = key_id(source.public_key)
    good: list[TreeHead] = []
    for head in heads:
        name = _describe_head(head)
        if head.key_id and head.key_id != expected_key:
            outcome.add("sth_key_mismatch", f"{name}: signed by another key than the log's")
        if not head.verify(source.public_key):
            outcome.add(
                "sth_signature_invalid",
                f"{name}: signature does not verify with the log's public key",
            )
            continue
        if head.tree_size > n_leaves:  # the leaves it signs beyond the log are named missing
            continue
        root = roots.get(head.tree_size)
        if root is not None and root != head.root_hash:
            outcome.add(
                "root_mismatch",
                f"{name}: recomputed root {root.hex()[:16]}… differs from "
                f"the signed root {head.root_hash.hex()[:16]}…",
            )
        good.append(head)

    def matches(head: TreeHead) -> bool | None:
        root = roots.get(head.tree_size)
        return None if root is None else root == head.root_hash

    for before, after in itertools.pairwise(good):
        if after.tree_size < before.tree_size:
            outcome.add(
                "sth_inconsistent",
                f"{_describe_head(after)} is smaller than the earlier {_describe_head(before)}",
            )
        elif matches(after) and matches(before) is False:
            # A consistency proof from `before` to `after` would force before's root to be
            # the MTH of after's first leaves — which is what we recomputed, and it is not.
            outcome.add(
                "sth_inconsistent",
                f"{_describe_head(before)} is not consistent with {_describe_head(after)}: "
                "the log was rewritten between them",
            )

    mismatched = [head for head in good if matches(head) is False]
    if mismatched:
        hashes = [bytes(packed[i : i + merkle.HASH_SIZE]) for i in range(0, len(packed), 32)]
        tree = merkle.MemoryTree(hashes)
        _localise(source, mismatched, tree, labels, edited, outcome)
    connection = getattr(source, "connection", None)
    if connection is not None:  # a live database: its manual entries and results too
        verify_bound(connection, outcome)
        verify_evidence(connection, outcome, getattr(source, "blobs", None))
        verify_inputs(connection, outcome)  # site models, factor tables, filings
        verify_rollups(connection, outcome, sample=sample, seed=seed)
    return outcome


def verify_receipt(
    receipt: dict[str, Any],
    *,
    public_key: Ed25519PublicKey | None = None,
    document: bytes | None = None,
) -> Outcome:
    """Check one receipt (format ``tansuan-receipt-v1``, see docs/ledger.md).

    ``public_key``: the log's key as obtained from its operator; without it the key
    embedded in the receipt is used (integrity, not authenticity — noted in the outcome).
    ``document``: the report file; its SHA-256 must equal the payload's ``sha256``.
    """
    outcome = Outcome(leaves=1, tree_heads=1)
    try:
        if receipt.get("format") != "tansuan-receipt-v1":
            raise InputError(f"unknown receipt format {receipt.get('format')!r}", field="format")
        index = int(receipt["leaf_index"])
        size = int(receipt["tree_size"])
        data = base64.b64decode(receipt["leaf_data"], validate=True)
        claimed = unb64(receipt["leaf_hash"], field="leaf_hash", size=32)
        path = [unb64(h, field="audit_path", size=32) for h in receipt["audit_path"]]
        head = TreeHead.from_json(receipt["sth"])
        if public_key is None:
            public_key = load_public_key(str(receipt["public_key"]).encode("ascii"))
            outcome.notes.append(
                "checked with the public key inside the receipt; pass --public-key to check "
                "it is the log's / 使用回执内公钥校验"
            )
    except (KeyError, TypeError, ValueError) as error:
        raise InputError(f"not a tansuan receipt: {error}", field="receipt") from error
    if merkle.leaf_hash(data) != claimed:
        outcome.add("receipt_invalid", f"leaf {index}: leaf data does not hash to the leaf hash")
    if head.tree_size != size:
        outcome.add("receipt_invalid", f"tree size {size} differs from the STH's {head.tree_size}")
    if not head.verify(public_key):
        outcome.add("sth_signature_invalid", f"{_describe_head(head)}: signature does not verify")
    if not merkle.verify_inclusion(index, size, claimed, path, head.root_hash):
        outcome.add(
            "receipt_invalid",
            f"leaf {index}: inclusion proof does not lead to the signed root of size {size}",
        )
    if document is not None:
        try:
            payload = json.loads(data)["payload"]
            expected = str(payload["sha256"])
        except (ValueError, KeyError, TypeError):
            outcome.add("document_mismatch", "the receipt's payload carries no document sha256")
        else:
            actual = hashlib.sha256(document).hexdigest()
            if actual != expected:
                outcome.add(
                    "document_mismatch",
                    f"document SHA-256 {actual[:16]}… differs from the logged {expected[:16]}…",
                )
    return outcome
