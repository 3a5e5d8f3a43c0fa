"""Merkle tree hashing, proofs and proof verification (RFC 6962 §2.1 / RFC 9162 §2.1).

Pure functions: bytes in, bytes out; no database, no clock.

The tree over leaves ``D[0:n]`` is the Merkle Tree Hash of RFC 9162 §2.1.1::

    MTH({})        = SHA-256()
    MTH({d0})      = SHA-256(0x00 || d0)                      (leaf hash)
    MTH(D[0:n])    = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))
                     with k the largest power of two smaller than n

Storage never keeps a whole tree in memory. It keeps the *complete* subtrees: the node
``(level, index)`` is the MTH of leaves ``[index·2^level, (index+1)·2^level)``. Every
subtree an RFC proof needs is a range ``[a, b)`` whose start is aligned to a power of two
at least as large as ``b - a``; its hash is the right fold of at most log2(n) complete
nodes (:func:`range_blocks`, :func:`fold`). So a proof is planned here as ranges, the
caller fetches the complete nodes in one query, and :func:`fold` assembles the hashes.

References
----------
RFC 6962 "Certificate Transparency" §2.1; RFC 9162 "Certificate Transparency Version 2.0"
§2.1.1 (MTH), §2.1.3 (inclusion proofs), §2.1.4 (consistency proofs).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
#: MTH of the empty tree: SHA-256 of the empty string.
EMPTY_ROOT = hashlib.sha256(b"").digest()

Range = tuple[int, int]  # [start, end) in leaf indices
Block = tuple[int, int]  # (level, index) of a complete subtree


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || data) [32 bytes]."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 || left || right) [32 bytes]."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    if n < 2:
        raise ValueError(f"split_point needs n >= 2, got {n}")
    return 1 << ((n - 1).bit_length() - 1)


def range_blocks(start: int, end: int) -> list[Block]:
    """The complete aligned subtrees covering ``[start, end)``, left to right.

    Each block is as large as both the remaining length and the alignment of its start
    allow. For the ranges RFC proofs use, these are exactly the subtrees whose right fold
    is ``MTH(D[start:end])``.
    """
    blocks: list[Block] = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start:
            level = min(level, (start & -start).bit_length() - 1)
        blocks.append((level, start >> level))
        start += 1 << level
    return blocks


def fold(hashes: Sequence[bytes]) -> bytes:
    """Right fold of complete-subtree hashes: ``h0 · (h1 · (… · hk))`` with · = node hash."""
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The subtrees of the audit path ``PATH(index, D[0:size])``, leaf end first.

    RFC 9162 §2.1.3.1: ``PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])`` for ``m < k``,
    else ``PATH(m - k, D[k:n]) : MTH(D[0:k])``.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    path: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index - start < k:
            path.append((start + k, end))
            end = start + k
        else:
            path.append((start, start + k))
            start += k
    path.reverse()
    return path


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The subtrees of the consistency proof ``PROOF(first, D[0:second])``.

    RFC 9162 §2.1.4.1 (SUBPROOF). Empty when ``first`` is 0 or equals ``second``.
    """
    if not 0 <= first <= second:
        raise ValueError(f"no consistency proof from size {first} to size {second}")
    if first == 0 or first == second:
        return []

    def subproof(m: int, start: int, end: int, complete: bool) -> list[Range]:
        n = end - start
        if m == n:
            return [] if complete else [(start, end)]
        k = split_point(n)
        if m <= k:
            return [*subproof(m, start, start + k, complete), (start + k, end)]
        return [*subproof(m - k, start + k, end, False), (start, start + k)]

    return subproof(first, 0, second, True)


def blocks_of(ranges: Iterable[Range]) -> set[Block]:
    """Every complete node needed to hash the given ranges."""
    return {block for start, end in ranges for block in range_blocks(start, end)}


def hash_ranges(ranges: Sequence[Range], node: Callable[[Block], bytes]) -> list[bytes]:
    """Hash each range from complete nodes given by ``node((level, index))``."""
    return [fold([node(b) for b in range_blocks(start, end)]) for start, end in ranges]


class MemoryTree:
    """A Merkle tree held in memory: every complete node of ``leaf_hashes``.

    Used by the verifier (which recomputes everything) and by tests. Memory is about
    2 × n × 32 bytes.
    """

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        self.levels: list[list[bytes]] = [list(leaf_hashes)]
        while len(self.levels[-1]) > 1:
            below = self.levels[-1]
            self.levels.append(
                [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
            )

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def node(self, block: Block) -> bytes:
        level, index = block
        return self.levels[level][index]

    def range_hash(self, start: int, end: int) -> bytes:
        return fold([self.node(b) for b in range_blocks(start, end)])

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (default: all)."""
        return self.range_hash(0, self.size if size is None else size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return hash_ranges(inclusion_ranges(index, self.size if size is None else size), self.node)

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        second = self.size if second is None else second
        return hash_ranges(consistency_ranges(first, second), self.node)


class Frontier:
    """The right edge of a growing tree: one complete subtree per set bit of its size.

    Appending a leaf costs amortised one node hash and yields the complete nodes it
    finishes, which storage keeps. ``hashes`` are ordered from the largest (leftmost)
    subtree to the smallest.
    """

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if len(hashes) != bin(size).count("1"):
            raise ValueError(f"a frontier of size {size} needs {bin(size).count('1')} hashes")
        self.size = size
        self.hashes = list(hashes)

    def append(self, hash_: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf hash; return the completed interior nodes ``(level, index, hash)``."""
        completed: list[tuple[int, int, bytes]] = []
        node, level, index = hash_, 0, self.size
        while index & 1:
            node = node_hash(self.hashes.pop(), node)
            level += 1
            index >>= 1
            completed.append((level, index, node))
        self.hashes.append(node)
        self.size += 1
        return completed

    def root(self) -> bytes:
        return fold(self.hashes)

    def pack(self) -> bytes:
        return b"".join(self.hashes)

    @classmethod
    def unpack(cls, size: int, packed: bytes) -> Frontier:
        hashes = [packed[i : i + HASH_SIZE] for i in range(0, len(packed), HASH_SIZE)]
        return cls(size, hashes)


def verify_inclusion(
    leaf_index: int, tree_size: int, leaf: bytes, path: Sequence[bytes], root: bytes
) -> bool:
    """Check an audit path (RFC 9162 §2.1.3.2). ``leaf`` is the leaf *hash*."""
    if not 0 <= leaf_index < tree_size:
        return False
    fn, sn = leaf_index, tree_size - 1
    r = leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Check a consistency proof between two tree heads (RFC 9162 §2.1.4.2).

    Size 0 is consistent with anything (empty proof); equal sizes need equal roots and an
    empty proof.
    """
    if not 0 <= first <= second:
        return False
    if first == 0:
        return not proof and first_root == EMPTY_ROOT
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0
