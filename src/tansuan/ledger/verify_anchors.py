"""Check a log against tree heads kept outside its database (see :mod:`.anchors`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from sqlalchemy import Connection, select

from tansuan.errors import InputError
from tansuan.ledger import merkle, schema
from tansuan.ledger.canonical import envelope, us_to_iso
from tansuan.ledger.signing import TreeHead
from tansuan.ledger.sources import Source
from tansuan.ledger.verify import LABELS_ZH, Outcome

#: zh-CN labels of the findings this module adds (merged into the verifier's table).
ANCHOR_LABELS_ZH = {
    "anchor_unreadable": "锚定文件无法读取",
    "anchor_signature_invalid": "锚定树头签名无效",
    "anchor_head_missing": "锚定树头在数据库中缺失",
    "anchor_leaves_missing": "锚定树头覆盖的叶子缺失",
    "anchor_root_mismatch": "叶子与锚定树头不符",
    "sth_none": "有叶子但无树头",
    "sth_stale": "数据库树头早于锚定树头",
    "head_inconsistent": "树头不一致（一致性证明失败）",
}
LABELS_ZH.update(ANCHOR_LABELS_ZH)


def _describe(head: TreeHead) -> str:
    return f"STH (size {head.tree_size}, {us_to_iso(head.timestamp_ms * 1000)})"


def _same(a: TreeHead, b: TreeHead) -> bool:
    return (a.tree_size, a.timestamp_ms, a.root_hash, a.signature) == (
        b.tree_size,
        b.timestamp_ms,
        b.root_hash,
        b.signature,
    )


def _envelopes(source: Source, below: int) -> Iterator[tuple[int, str, str, str]]:
    """``(leaf_index, kind, ref, payload)`` of the leaves with index < ``below``, in order.

    From a live database only those columns of only those rows are read (no readings
    records); any other source is streamed to its end."""
    connection = getattr(source, "connection", None)
    if isinstance(connection, Connection):
        leaves = schema.leaves.c
        query = (
            select(leaves.leaf_index, leaves.kind, leaves.ref, leaves.payload)
            .where(leaves.leaf_index < below)
            .order_by(leaves.leaf_index)
        )
        for row in connection.execution_options(yield_per=5000).execute(query):
            yield int(row[0]), str(row[1]), str(row[2]), str(row[3])
        return
    for leaf in source.leaves():  # read to the end: a source's cursor closes there
        if leaf.leaf_index < below:
            yield leaf.leaf_index, leaf.kind, leaf.ref, leaf.payload


def _roots_at(source: Source, sizes: set[int]) -> tuple[dict[int, bytes], int]:
    """MTH of the first n leaves for each n in ``sizes`` (recomputed from each leaf's
    kind, ref and payload, never from the stored hash), and how many leaves run without
    a gap from index 0 (at most ``max(sizes)``)."""
    roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT}
    frontier = merkle.Frontier()
    broken = False
    for index, kind, ref, payload in _envelopes(source, max(sizes, default=0)):
        broken = broken or index != frontier.size
        if broken:
            continue
        try:
            hash_ = merkle.leaf_hash(envelope(kind, ref, payload))
        except InputError:
            hash_ = bytes(merkle.HASH_SIZE)  # unreadable: cannot match any signed root
        frontier.append(hash_)
        if frontier.size in sizes:
            roots[frontier.size] = frontier.root()
    return roots, frontier.size


def check_anchored(
    source: Source,
    anchored: Sequence[TreeHead],
    *,
    problems: Iterable[str] = (),
    own_heads: Sequence[TreeHead] = (),
    where: str = "anchor file",
) -> Outcome:
    """Check ``source`` against heads kept outside it; every difference is a finding.

    ``anchored``: the heads of the anchor file (``problems``: its unreadable lines);
    ``own_heads``: a verifier's own copies (e.g. a receipt's head), additionally checked
    by a consistency proof against the database's latest head.
    """
    outcome = Outcome()
    for problem in problems:
        outcome.add("anchor_unreadable", problem)
    db_heads = source.tree_heads()
    leaf_count = source.leaf_count()
    outcome.leaves, outcome.tree_heads = leaf_count, len(db_heads)
    if leaf_count and not db_heads:
        outcome.add(
            "sth_none",
            f"the log holds {leaf_count} leaves but no signed tree head: "
            "the database's tree heads were deleted or never issued",
        )
    valid: list[tuple[TreeHead, str]] = []
    for head, origin in [*((h, where) for h in anchored), *((h, "your copy") for h in own_heads)]:
        if head.verify(source.public_key):
            valid.append((head, origin))
        else:
            outcome.add(
                "anchor_signature_invalid",
                f"{_describe(head)} ({origin}): signature does not verify with the log's key",
            )
    for head, origin in valid:
        if origin == where and not any(_same(head, db) for db in db_heads):
            outcome.add(
                "anchor_head_missing",
                f"{_describe(head)} is in the {where} but not in the database "
                "(deleted, or the database was restored from an older copy)",
            )
    db_latest = max(db_heads, key=lambda h: (h.timestamp_ms, h.tree_size), default=None)
    if valid:
        newest, origin = max(valid, key=lambda v: (v[0].timestamp_ms, v[0].tree_size))
        if db_latest is not None and (
            db_latest.timestamp_ms < newest.timestamp_ms or db_latest.tree_size < newest.tree_size
        ):
            outcome.add(
                "sth_stale",
                f"the database's latest {_describe(db_latest)} is older than {_describe(newest)} "
                f"({origin}): an old tree head was replayed or newer ones removed",
            )
    roots, contiguous = _roots_at(source, {head.tree_size for head, _ in valid})
    for head, origin in valid:
        if head.tree_size > contiguous:
            outcome.add(
                "anchor_leaves_missing",
                f"{_describe(head)} ({origin}) covers {head.tree_size} leaves; the database "
                f"holds only {contiguous} from leaf 0 on (the log was truncated or leaves deleted)",
            )
        elif roots[head.tree_size] != head.root_hash:
            outcome.add(
                "anchor_root_mismatch",
                f"leaves 0…{head.tree_size - 1} hash to {roots[head.tree_size].hex()[:16]}…, not "
                f"to the root {head.root_hash.hex()[:16]}… of {_describe(head)} ({origin}): "
                "a leaf was changed, rewritten, reordered or removed",
            )
    if db_latest is not None:
        for head, origin in valid:
            if origin == where or head.tree_size > db_latest.tree_size:
                continue
            if not _consistent(source, head, db_latest):
                outcome.add(
                    "head_inconsistent",
                    f"{_describe(head)} ({origin}) is not consistent with the database's "
                    f"latest {_describe(db_latest)}: the consistency proof from the stored "
                    "tree does not hold",
                )
    return outcome


def _consistent(source: Source, first: TreeHead, second: TreeHead) -> bool:
    """RFC 9162 consistency proof from ``first`` to ``second``, read from the stored nodes."""
    ranges = merkle.consistency_ranges(first.tree_size, second.tree_size)
    nodes: dict[merkle.Block, bytes] = {}
    for block in merkle.blocks_of(ranges):
        value = source.node(block)
        if value is None:
            return False
        nodes[block] = value
    proof = merkle.hash_ranges(ranges, nodes.__getitem__)
    return merkle.verify_consistency(
        first.tree_size, second.tree_size, first.root_hash, second.root_hash, proof
    )


def merge(into: Outcome, extra: Outcome) -> None:
    """Add ``extra``'s findings and notes to ``into`` (the verify_source outcome)."""
    into.findings.extend(extra.findings)
    into.notes.extend(extra.notes)
