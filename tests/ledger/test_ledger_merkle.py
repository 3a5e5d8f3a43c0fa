"""Merkle hashing and proofs, cross-checked against RFC 6962 §2.1 written out plainly.

The reference functions below (``ref_mth``, ``ref_path``, ``ref_proof``) are the RFC's
recursive definitions transcribed line by line over lists of leaf *data*; they share no
code with :mod:`tansuan.ledger.merkle`.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tansuan.ledger import merkle


def ref_hash(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def ref_mth(d: list[bytes]) -> bytes:
    """RFC 6962 §2.1: MTH({}) = SHA-256(); MTH({d0}) = SHA-256(0x00 || d0); else split at k."""
    n = len(d)
    if n == 0:
        return ref_hash(b"")
    if n == 1:
        return ref_hash(b"\x00" + d[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return ref_hash(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:]))


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    """RFC 6962 §2.1.1: PATH(m, D[n])."""
    n = len(d)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return ref_path(m, d[:k]) + [ref_mth(d[k:])]
    return ref_path(m - k, d[k:]) + [ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    """RFC 6962 §2.1.2: SUBPROOF(m, D[n], b)."""
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return ref_subproof(m, d[:k], b) + [ref_mth(d[k:])]
    return ref_subproof(m - k, d[k:], False) + [ref_mth(d[:k])]


def ref_proof(m: int, d: list[bytes]) -> list[bytes]:
    return ref_subproof(m, d, True)


def data(n: int) -> list[bytes]:
    return [f"leaf {i}".encode() for i in range(n)]


def tree_of(d: list[bytes]) -> merkle.MemoryTree:
    return merkle.MemoryTree([merkle.leaf_hash(x) for x in d])


#: Certificate Transparency's reference test vectors (RFC 6962 trees over these 8 inputs,
#: as published with the CT reference implementations): root of every size 0…8 and two
#: audit paths in the tree of 8.
CT_INPUTS = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
             "606162636465666768696a6b6c6d6e6f"]  # fmt: skip
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_PATHS = {
    0: [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    5: [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}


def test_certificate_transparency_reference_vectors() -> None:
    """The published roots and audit paths; the consistency proof 2 → 8 is, by RFC 6962
    §2.1.2, [MTH(D[2:4]), MTH(D[4:8])] — the last two nodes of leaf 0's published path."""
    d = [bytes.fromhex(x) for x in CT_INPUTS]
    tree = tree_of(d)
    for size, root in enumerate(CT_ROOTS):
        assert tree.root(size).hex() == root
    for index, path in CT_PATHS.items():
        assert [h.hex() for h in tree.inclusion_proof(index, 8)] == path
        proof = [bytes.fromhex(h) for h in path]
        root8 = bytes.fromhex(CT_ROOTS[8])
        assert merkle.verify_inclusion(index, 8, merkle.leaf_hash(d[index]), proof, root8)
    expected = [bytes.fromhex(h) for h in CT_PATHS[0][1:]]
    assert tree.consistency_proof(2, 8) == expected
    assert merkle.verify_consistency(
        2, 8, bytes.fromhex(CT_ROOTS[2]), bytes.fromhex(CT_ROOTS[8]), expected
    )


def test_known_hashes() -> None:
    """Empty root and one-leaf root from the RFC definitions, by hand with hashlib."""
    assert merkle.EMPTY_ROOT.hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert merkle.leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert (
        merkle.node_hash(b"a" * 32, b"b" * 32)
        == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    )


@pytest.mark.parametrize("n", range(0, 34))
def test_roots_match_reference(n: int) -> None:
    d = data(n)
    assert tree_of(d).root() == ref_mth(d)
    frontier = merkle.Frontier()
    for x in d:
        frontier.append(merkle.leaf_hash(x))
    assert frontier.root() == ref_mth(d)


@pytest.mark.parametrize("n", range(1, 34))
def test_every_inclusion_proof_matches_reference_and_verifies(n: int) -> None:
    d = data(n)
    tree = tree_of(d)
    root = ref_mth(d)
    for m in range(n):
        path = tree.inclusion_proof(m)
        assert path == ref_path(m, d)
        assert merkle.verify_inclusion(m, n, merkle.leaf_hash(d[m]), path, root)
        assert not merkle.verify_inclusion(m, n, merkle.leaf_hash(b"other"), path, root)
        if n > 1:
            assert not merkle.verify_inclusion((m + 1) % n, n, merkle.leaf_hash(d[m]), path, root)


@pytest.mark.parametrize("n", range(1, 34))
def test_every_consistency_proof_matches_reference_and_verifies(n: int) -> None:
    d = data(n)
    tree = tree_of(d)
    for m in range(1, n + 1):
        proof = tree.consistency_proof(m, n)
        assert proof == (ref_proof(m, d) if m < n else [])
        assert merkle.verify_consistency(m, n, ref_mth(d[:m]), ref_mth(d), proof)
        if m < n:
            forked = ref_mth(d[: m - 1] + [b"forged"])
            assert not merkle.verify_consistency(m, n, forked, ref_mth(d), proof)


def test_frontier_yields_exactly_the_complete_nodes() -> None:
    d = data(13)
    tree = tree_of(d)
    frontier = merkle.Frontier()
    completed = {}
    for x in d:
        for level, index, h in frontier.append(merkle.leaf_hash(x)):
            completed[(level, index)] = h
    expected = {
        (level, i): tree.levels[level][i]
        for level in range(1, len(tree.levels))
        for i in range(13 >> level)
    }
    assert completed == expected
    again = merkle.Frontier.unpack(frontier.size, frontier.pack())
    assert again.root() == frontier.root()


def test_ranges_reject_impossible_requests() -> None:
    with pytest.raises(ValueError):
        merkle.inclusion_ranges(5, 5)
    with pytest.raises(ValueError):
        merkle.consistency_ranges(6, 5)
    assert not merkle.verify_inclusion(0, 0, merkle.EMPTY_ROOT, [], merkle.EMPTY_ROOT)
    assert not merkle.verify_consistency(3, 5, b"x" * 32, b"y" * 32, [])


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=1, max_value=9), min_size=1, max_size=8),
    picks=st.data(),
)
def test_random_append_sequences(sizes: list[int], picks: st.DataObject) -> None:
    """Append random batches; every recorded head is consistent with every later one,
    and a random leaf's proof holds in every head containing it."""
    leaves: list[bytes] = []
    heads: list[tuple[int, bytes]] = []
    frontier = merkle.Frontier()
    for batch in sizes:
        for _ in range(batch):
            x = f"{len(leaves)}:{picks.draw(st.binary(max_size=8))!r}".encode()
            leaves.append(x)
            frontier.append(merkle.leaf_hash(x))
        heads.append((len(leaves), frontier.root()))
    tree = tree_of(leaves)
    for size, root in heads:
        assert root == ref_mth(leaves[:size])
    for i, (m, root_m) in enumerate(heads):
        for n, root_n in heads[i:]:
            proof = tree.consistency_proof(m, n)
            assert proof == (ref_proof(m, leaves[:n]) if m < n else [])
            assert merkle.verify_consistency(m, n, root_m, root_n, proof)
    index = picks.draw(st.integers(min_value=0, max_value=len(leaves) - 1))
    for size, root in heads:
        if index < size:
            path = tree.inclusion_proof(index, size)
            assert path == ref_path(index, leaves[:size])
            assert merkle.verify_inclusion(index, size, merkle.leaf_hash(leaves[index]), path, root)
