"""A verifier's sign-off: the statement they sign with their own Ed25519 key, and its check.

The statement is canonical JSON (:func:`~tansuan.ledger.canonical.canonical_json`: keys
sorted, no spaces, UTF-8) of exactly these fields::

    {"at": "2026-12-05T09:30:00+00:00",   # when the verifier signed (ISO 8601, aware)
     "open_findings": 1,                   # findings of the site and period still open
     "opinion": "…",                       # the verifier's opinion, free text
     "period": "2025" | "2025-05",
     "root_hash": "<64 hex>",              # the ledger's root over its first tree_size leaves
     "site": "demo-site",
     "tree_size": 1234}

The signature is Ed25519 (RFC 8032) over the statement's UTF-8 bytes; the public key is
the raw 32 bytes, written as hex. The server never holds the private key: the verifier
signs with ``tansuan signoff sign --key FILE`` (:func:`sign`) or their own tool and
uploads statement and signature. The ``signoff`` leaf's payload is :func:`leaf_payload`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tansuan.errors import InputError
from tansuan.ledger.canonical import canonical_json

#: The fields of a statement, exactly.
STATEMENT_FIELDS = ("at", "open_findings", "opinion", "period", "root_hash", "site", "tree_size")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX128 = re.compile(r"[0-9a-f]{128}")
_PERIOD = re.compile(r"\d{4}(-(0[1-9]|1[0-2]))?")


def check_period(period: str) -> str:
    """A sign-off or finding period: a year ``YYYY`` or a month ``YYYY-MM``."""
    if not isinstance(period, str) or not _PERIOD.fullmatch(period):
        raise InputError(
            f"期间须为 YYYY 或 YYYY-MM / the period must be YYYY or YYYY-MM, not {period!r}",
            field="period",
        )
    return period


def statement_text(
    *, site: str, period: str, tree_size: int, root_hash: str, opinion: str,
    open_findings: int, at: str,
) -> str:  # fmt: skip
    """The exact string a verifier signs."""
    return canonical_json(
        {"site": site, "period": check_period(period), "tree_size": tree_size,
         "root_hash": root_hash, "opinion": opinion, "open_findings": open_findings, "at": at}
    ).decode("utf-8")  # fmt: skip


def parse_statement(text: str) -> dict[str, Any]:
    """The statement's fields; InputError unless it is canonical JSON of exactly them."""
    try:
        value = json.loads(text)
    except (ValueError, TypeError) as error:
        raise InputError(f"签署声明不是 JSON / the statement is not JSON: {error}",
                         field="statement") from error  # fmt: skip
    if not isinstance(value, dict) or tuple(sorted(value)) != STATEMENT_FIELDS:
        raise InputError(
            "签署声明须恰好包含字段 / the statement must have exactly the fields "
            + ", ".join(STATEMENT_FIELDS),
            field="statement",
        )
    if canonical_json(value).decode("utf-8") != text:
        raise InputError(
            "签署声明不是规范 JSON（键排序、无空格）/ the statement is not canonical JSON "
            "(sorted keys, no spaces)",
            field="statement",
        )
    if not (isinstance(value["tree_size"], int) and value["tree_size"] > 0):
        raise InputError("tree_size must be a positive integer", field="statement")
    if not (isinstance(value["root_hash"], str) and _HEX64.fullmatch(value["root_hash"])):
        raise InputError("root_hash must be 64 lower-case hex digits", field="statement")
    if not (isinstance(value["open_findings"], int) and value["open_findings"] >= 0):
        raise InputError("open_findings must be a count (integer ≥ 0)", field="statement")
    if not (isinstance(value["opinion"], str) and value["opinion"].strip()):
        raise InputError("签署意见不能为空 / the opinion must not be empty", field="statement")
    check_period(value["period"])
    try:
        at = dt.datetime.fromisoformat(str(value["at"]))
    except ValueError as error:
        raise InputError(f"at is not an ISO 8601 time: {value['at']!r}",
                         field="statement") from error  # fmt: skip
    if at.tzinfo is None:
        raise InputError("at must carry a UTC offset", field="statement")
    return value


def public_key_hex(text: str) -> str:
    """A verifier public key as stored: raw 32 bytes, lower-case hex."""
    value = (text or "").strip().lower()
    if not _HEX64.fullmatch(value):
        raise InputError(
            "公钥须为 64 位十六进制（Ed25519 原始 32 字节）/ the public key must be 64 hex "
            "digits (Ed25519, raw 32 bytes)",
            field="public_key",
        )
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(value))
    except ValueError as error:
        raise InputError(f"not an Ed25519 public key: {error}", field="public_key") from error
    return value


def signature_ok(public_key: str, statement: str, signature: str) -> bool:
    """Whether ``signature`` (hex) is the Ed25519 signature of ``statement`` under the key."""
    sig = (signature or "").strip().lower()
    if not _HEX128.fullmatch(sig):
        return False
    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex(public_key)))
    try:
        key.verify(bytes.fromhex(sig), statement.encode("utf-8"))
    except InvalidSignature:
        return False
    return True


def leaf_payload(
    *, id: int, site: str, period: str, verifier: str, grant_id: int, public_key: str,
    statement: str, signature: str,
) -> dict[str, Any]:  # fmt: skip
    """The payload of a ``signoff`` leaf (ref ``signoff/<site>/<period>/<id>``)."""
    return {"id": id, "site": site, "period": period, "verifier": verifier,
            "grant_id": grant_id, "public_key": public_key, "statement": statement,
            "signature": signature}  # fmt: skip


def leaf_ref(site: str, period: str, signoff_id: int) -> str:
    return f"signoff/{site}/{period}/{signoff_id}"


# --- the verifier's side: a key of their own --------------------------------------------


def new_key(path: Path) -> str:
    """Write a new Ed25519 private key (PEM, PKCS#8, mode 0600) to ``path``; returns the
    public key (hex) to register on the grant. Refuses to overwrite a file."""
    if path.exists():
        raise InputError(f"{path} exists; not overwriting a key", field="out")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_bytes(pem)
    return _raw_public(key)


def _raw_public(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw.hex()


def load_key(path: Path) -> Ed25519PrivateKey:
    """An Ed25519 private key from a PEM file (or 32 raw bytes written as 64 hex digits)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"cannot read the key file {path}: {error}", field="key") from error
    text = data.strip()
    try:
        if _HEX64.fullmatch(text.decode("ascii", "replace").lower()):
            return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(text.decode("ascii")))
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as error:
        raise InputError(f"不是 Ed25519 私钥 / {path} is not an Ed25519 private key (PEM "
                         "PKCS#8, or 64 hex digits)", field="key") from error  # fmt: skip
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"不是 Ed25519 私钥 / {path} is not an Ed25519 private key", field="key")
    return key


def sign(key: Ed25519PrivateKey, statement: str) -> dict[str, str]:
    """Sign a statement (checked first): ``{statement, signature, public_key}`` (hex)."""
    parse_statement(statement)
    return {
        "statement": statement,
        "signature": key.sign(statement.encode("utf-8")).hex(),
        "public_key": _raw_public(key),
    }
