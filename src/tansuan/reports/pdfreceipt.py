"""A PDF's ledger receipt in its document information, added as an incremental update.

PDF allows appending an *incremental update* (ISO 32000-1 §7.5.6) after ``%%EOF``: new
objects, then a cross-reference section whose ``/Prev`` points at the previous one. An
issued PDF is therefore ``content ‖ update`` where ``content`` is the file WeasyPrint
printed — the bytes the ledger's SHA-256 covers (their length is in the payload as
``bytes``) — and the update adds one object: a new document-information dictionary whose
``/TansuanReceipt`` entry holds the receipt JSON (hex string). Readers show the same pages.
The update is a pure function of ``content`` and the receipt, so ``verify`` rebuilds it and
requires it byte for byte.
"""

from __future__ import annotations

import base64
import json
import re
import struct
from typing import Any

from tansuan.errors import InputError

KEY = b"/TansuanReceipt"
_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_SIZE = re.compile(rb"/Size\s+(\d+)")
_ROOT = re.compile(rb"/Root\s+(\d+\s+\d+\s+R)")
_RECEIPT = re.compile(KEY + rb"\s*<([0-9A-Fa-f]+)>")


def _trailer(content: bytes) -> tuple[int, int, bytes]:
    """(startxref, /Size, /Root reference) of the PDF's last cross-reference section."""
    found = _STARTXREF.search(content[-64:])
    if found is None:
        raise InputError("not a complete PDF: no startxref / %%EOF at its end")
    prev = int(found.group(1))
    section = content[prev : prev + 4096]
    size, root = _SIZE.search(section), _ROOT.search(section)
    if size is None or root is None:
        raise InputError("the PDF's last cross-reference section has no /Size or /Root")
    return prev, int(size.group(1)), root.group(1)


def update(content: bytes, receipt: dict[str, Any]) -> bytes:
    """The incremental update that puts ``receipt`` into ``content``'s document information."""
    prev, size, root = _trailer(content)
    data = json.dumps(receipt, sort_keys=True, ensure_ascii=True).encode("ascii")
    info_id, xref_id = size, size + 1
    start = len(content) + 1  # after the newline that opens the update
    info = (
        f"{info_id} 0 obj\n<</Producer (tansuan; WeasyPrint)".encode()
        + b" "
        + KEY
        + b" <"
        + data.hex().encode("ascii")
        + b">>>\nendobj\n"
    )
    xref_at = start + len(info)
    rows = struct.pack(">BIH", 1, start, 0) + struct.pack(">BIH", 1, xref_at, 0)
    xref = (
        f"{xref_id} 0 obj\n<</Type /XRef /Size {xref_id + 1} /Root {root.decode()} "
        f"/Info {info_id} 0 R /Prev {prev} /Index [{info_id} 2] /W [1 4 2] "
        f"/Length {len(rows)}>>\nstream\n"
    ).encode("ascii")
    return (
        b"\n"
        + info
        + xref
        + rows
        + b"\nendstream\nendobj\nstartxref\n"
        + (f"{xref_at}\n%%EOF\n".encode("ascii"))
    )


def split(data: bytes) -> tuple[dict[str, Any], bytes, bytes] | None:
    """(receipt, content, update) of an issued PDF; None when it carries no receipt."""
    matches = list(_RECEIPT.finditer(data))
    if not matches:
        return None
    try:
        receipt = json.loads(bytes.fromhex(matches[-1].group(1).decode("ascii")))

        payload = json.loads(base64.b64decode(receipt["leaf_data"]))["payload"]
        length = int(payload["bytes"])
    except (ValueError, KeyError, TypeError) as error:
        raise InputError(f"the PDF's embedded receipt is unreadable: {error}") from error
    if not 0 < length <= len(data):
        raise InputError("the PDF's embedded receipt names a content length outside the file")
    return receipt, data[:length], data[length:]
