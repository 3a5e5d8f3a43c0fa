"""JSON-ready proofs, tree heads and receipts (the documented forms of docs/ledger.md).

The web issue's routes return these dicts as they are. Hashes and signatures are
standard base64, field names follow RFC 6962 §4 (``audit_path``, ``consistency``,
``sha256_root_hash``, ``tree_head_signature``), so any RFC 6962 implementation can check
them with the RFC 9162 §2.1.3.2 / §2.1.4.2 algorithms.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from sqlalchemy import Connection, select

from tansuan.errors import NotFound
from tansuan.ledger import schema
from tansuan.ledger.canonical import envelope
from tansuan.ledger.log import Ledger, latest_sth, sth_covering
from tansuan.ledger.signing import TreeHead, b64, public_key_pem

RECEIPT_FORMAT = "tansuan-receipt-v1"


def sth_json(connection: Connection) -> dict[str, Any]:
    """The latest signed tree head, or NotFound when none was issued yet."""
    head = latest_sth(connection)
    if head is None:
        raise NotFound("尚无签名树头 / no signed tree head issued yet")
    return head.to_json()


def _sth_of_size(connection: Connection, tree_size: int) -> TreeHead | None:
    row = connection.execute(
        select(schema.sths)
        .where(schema.sths.c.tree_size == tree_size)
        .order_by(schema.sths.c.sth_id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return TreeHead(
        row.tree_size,
        row.timestamp_ms,
        bytes(row.root_hash),
        bytes(row.signature),
        bytes(row.key_id),
        row.sth_id,
    )


def leaf_json(ledger: Ledger, connection: Connection, leaf_index: int) -> dict[str, Any]:
    """One leaf as logged (RFC 6962 §4.6 get-entries, one entry): what its hash covers.

    ``leaf_data`` is the canonical envelope; SHA-256(0x00 ‖ leaf_data) is ``leaf_hash``.
    The readings record of an ingest batch is not included (it can be large).
    """
    leaf = ledger.leaf(connection, leaf_index)
    return {
        "leaf_index": leaf.leaf_index,
        "kind": leaf.kind,
        "ref": leaf.ref,
        "payload": json.loads(leaf.payload),
        "leaf_data": base64.b64encode(envelope(leaf.kind, leaf.ref, leaf.payload)).decode(),
        "leaf_hash": b64(leaf.leaf_hash),
    }


def inclusion_proof_json(
    ledger: Ledger, connection: Connection, leaf_index: int, tree_size: int | None = None
) -> dict[str, Any]:
    """Inclusion proof of a leaf, against the latest STH (or a given tree size).

    With ``tree_size`` omitted, the proof is for the latest STH that contains the leaf;
    NotFound when no STH contains it yet.
    """
    if tree_size is None:
        head = sth_covering(connection, leaf_index)
        if head is None:
            raise NotFound(
                f"叶子 {leaf_index} 尚未被签名树头覆盖 / leaf {leaf_index} is not in any "
                "signed tree head yet"
            )
        tree_size = head.tree_size
    else:
        head = _sth_of_size(connection, tree_size)
    leaf = ledger.leaf(connection, leaf_index)
    path = ledger.inclusion_proof(connection, leaf_index, tree_size)
    root = head.root_hash if head is not None else ledger.root(connection, tree_size)
    return {
        "leaf_index": leaf_index,
        "tree_size": tree_size,
        "leaf_hash": b64(leaf.leaf_hash),
        "audit_path": [b64(h) for h in path],
        "sha256_root_hash": b64(root),
        "sth": None if head is None else head.to_json(),
    }


def consistency_proof_json(
    ledger: Ledger, connection: Connection, first: int, second: int
) -> dict[str, Any]:
    """Consistency proof between tree sizes ``first`` ≤ ``second``, with both roots."""
    proof = ledger.consistency_proof(connection, first, second)
    first_head = _sth_of_size(connection, first)
    second_head = _sth_of_size(connection, second)
    return {
        "first": first,
        "second": second,
        "first_root": b64(ledger.root(connection, first)),
        "second_root": b64(ledger.root(connection, second)),
        "consistency": [b64(h) for h in proof],
        "first_sth": None if first_head is None else first_head.to_json(),
        "second_sth": None if second_head is None else second_head.to_json(),
    }


def receipt_for(ledger: Ledger, connection: Connection, leaf_index: int) -> dict[str, Any]:
    """A self-contained receipt that leaf ``leaf_index`` is in the signed log.

    Issues an STH in the caller's transaction when none covers the leaf yet. The receipt
    carries the leaf data (so its holder can see what was logged, e.g. a report's SHA-256),
    the leaf hash, the audit path, the STH and the log's public key (for convenience:
    a checker should compare it with the key it got from the operator).
    """
    head = sth_covering(connection, leaf_index)
    if head is None:
        head = ledger.issue_sth(connection)
    leaf = ledger.leaf(connection, leaf_index)
    path = ledger.inclusion_proof(connection, leaf_index, head.tree_size)
    data = envelope(leaf.kind, leaf.ref, leaf.payload)
    return {
        "format": RECEIPT_FORMAT,
        "leaf_index": leaf_index,
        "kind": leaf.kind,
        "ref": leaf.ref,
        "leaf_data": base64.b64encode(data).decode("ascii"),
        "leaf_hash": b64(leaf.leaf_hash),
        "tree_size": head.tree_size,
        "audit_path": [b64(h) for h in path],
        "sth": head.to_json(),
        "public_key": public_key_pem(ledger.public_key).decode("ascii"),
    }
