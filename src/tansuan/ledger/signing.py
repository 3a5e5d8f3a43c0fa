"""Signed tree heads: the log's Ed25519 key pair, signing and checking tree heads.

The signed bytes are RFC 6962 §3.5 ``TreeHeadSignature`` (50 bytes, big-endian)::

    version          u8    0  (v1)
    signature_type   u8    1  (tree_hash)
    timestamp        u64   [ms since 1970-01-01T00:00:00Z]
    tree_size        u64   [leaves]
    sha256_root_hash 32 bytes

signed with Ed25519 (RFC 8032; RFC 9162 allows it for tree heads). The key id is
SHA-256 of the public key's DER SubjectPublicKeyInfo (the RFC 6962 §3.2 LogID).
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tansuan.errors import ConfigError, InputError

KEY_FILE = "ed25519.key"
PUBLIC_KEY_FILE = "ed25519.pub"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str, *, field: str, size: int | None = None) -> bytes:
    """Decode standard base64, checking the length when ``size`` is given."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (ValueError, TypeError) as error:
        raise InputError(f"not base64: {text!r}", field=field) from error
    if size is not None and len(raw) != size:
        raise InputError(f"expected {size} bytes, got {len(raw)}", field=field)
    return raw


def key_dir(data_dir: Path) -> Path:
    """Where the log's key pair lives: ``<data_dir>/ledger``."""
    return data_dir / "ledger"


def load_or_create_key(directory: Path) -> Ed25519PrivateKey:
    """The log's private key from ``directory/ed25519.key``, created (mode 0600) if absent.

    Refuses a key file that group or others can read, as ssh does.
    """
    path = directory / KEY_FILE
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            return load_or_create_key(directory)
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(pem)
        (directory / PUBLIC_KEY_FILE).write_bytes(public_key_pem(key.public_key()))
        return key
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"private key {path} has mode {mode:04o}; others may read it — run chmod 600",
            field="data_dir",
        )
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ConfigError(f"{path} is not an Ed25519 private key", field="data_dir")
    return loaded


def public_key_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as error:
        raise InputError(f"not a PEM public key: {error}", field="public_key") from error
    if not isinstance(key, Ed25519PublicKey):
        raise InputError("the public key is not Ed25519", field="public_key")
    return key


def key_id(public_key: Ed25519PublicKey) -> bytes:
    """SHA-256 of the DER SubjectPublicKeyInfo [32 bytes]."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).digest()


def signed_bytes(tree_size: int, timestamp_ms: int, root_hash: bytes) -> bytes:
    """The 50 bytes an STH signature covers (RFC 6962 §3.5 TreeHeadSignature)."""
    return struct.pack(">BBQQ", 0, 1, timestamp_ms, tree_size) + root_hash


@dataclass(frozen=True)
class TreeHead:
    """A signed tree head. ``timestamp_ms`` [ms since epoch]; hashes are raw bytes."""

    tree_size: int
    timestamp_ms: int
    root_hash: bytes
    signature: bytes
    key_id: bytes
    sth_id: int | None = None

    def verify(self, public_key: Ed25519PublicKey) -> bool:
        """Whether the signature holds for these fields under ``public_key``."""
        try:
            public_key.verify(
                self.signature, signed_bytes(self.tree_size, self.timestamp_ms, self.root_hash)
            )
        except InvalidSignature:
            return False
        return True

    def to_json(self) -> dict[str, Any]:
        """The documented JSON form (names as RFC 6962 §4.3 get-sth)."""
        return {
            "tree_size": self.tree_size,
            "timestamp": self.timestamp_ms,
            "sha256_root_hash": b64(self.root_hash),
            "tree_head_signature": b64(self.signature),
            "signature_algorithm": "ed25519",
            "key_id": b64(self.key_id),
            **({"sth_id": self.sth_id} if self.sth_id is not None else {}),
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any], *, field: str = "sth") -> TreeHead:
        try:
            return cls(
                tree_size=int(doc["tree_size"]),
                timestamp_ms=int(doc["timestamp"]),
                root_hash=unb64(
                    doc["sha256_root_hash"], field=f"{field}.sha256_root_hash", size=32
                ),
                signature=unb64(doc["tree_head_signature"], field=f"{field}.tree_head_signature"),
                key_id=unb64(doc.get("key_id", ""), field=f"{field}.key_id"),
                sth_id=doc.get("sth_id"),
            )
        except (KeyError, TypeError, ValueError) as error:
            if isinstance(error, InputError):
                raise
            raise InputError(f"not a signed tree head: {error!r}", field=field) from error


def sign_tree_head(
    key: Ed25519PrivateKey, tree_size: int, root_hash: bytes, timestamp_ms: int
) -> TreeHead:
    signature = key.sign(signed_bytes(tree_size, timestamp_ms, root_hash))
    return TreeHead(tree_size, timestamp_ms, root_hash, signature, key_id(key.public_key()))
