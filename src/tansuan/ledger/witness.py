"""A witness: an HTTP endpoint, run by someone other than the plant, that countersigns
the log's tree heads and keeps its own append-only copy of them (docs/ledger.md,
"Witness").

Protocol (JSON over HTTP; the STH JSON form of docs/ledger.md):

* ``POST /v1/heads`` with an STH: the witness checks the signature under the log's public
  key it was given (400 if it does not verify), refuses a head older or smaller than the
  newest it witnessed (409), appends it to its own anchor file and answers
  ``{"sth": …, "witness_key_id": b64, "witness_signature": b64}`` — an Ed25519 signature
  by the witness's key over ``b"tansuan-witness-v1\\n"`` + the head's 50 signed bytes.
* ``GET /v1/latest``: the newest witnessed head in the same form (404 when none).

The witness is deliberately small (standard library HTTP server): a real deployment puts
it on another host, behind TLS.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tansuan.errors import InputError, LedgerError
from tansuan.ledger.anchors import AnchorFile
from tansuan.ledger.signing import TreeHead, b64, key_id, signed_bytes, unb64

CONTEXT = b"tansuan-witness-v1\n"
WITNESSED_FILE = "witnessed.jsonl"


def countersigned_bytes(head: TreeHead) -> bytes:
    """What a witness signs: a context string, then the head's RFC 6962 signed bytes."""
    return CONTEXT + signed_bytes(head.tree_size, head.timestamp_ms, head.root_hash)


def check_countersignature(answer: dict[str, Any], witness_key: Ed25519PublicKey) -> TreeHead:
    """The head of a witness's answer, once its countersignature holds under ``witness_key``."""
    head = TreeHead.from_json(answer["sth"])
    signature = unb64(str(answer.get("witness_signature", "")), field="witness_signature")
    try:
        witness_key.verify(signature, countersigned_bytes(head))
    except InvalidSignature as error:
        raise InputError("the witness's countersignature does not verify") from error
    return head


class Witness:
    """The witness's state: the log's key, its own key and its anchor file."""

    def __init__(self, log_key: Ed25519PublicKey, key: Ed25519PrivateKey, directory: Path) -> None:
        self.log_key = log_key
        self.key = key
        self.file = AnchorFile(Path(directory) / WITNESSED_FILE)
        self.lock = threading.Lock()

    def latest(self) -> TreeHead | None:
        heads, _ = self.file.read()
        return max(heads, key=lambda h: (h.timestamp_ms, h.tree_size), default=None)

    def answer(self, head: TreeHead) -> dict[str, Any]:
        return {
            "sth": head.to_json(),
            "witness_key_id": b64(key_id(self.key.public_key())),
            "witness_signature": b64(self.key.sign(countersigned_bytes(head))),
        }

    def witness(self, head: TreeHead) -> tuple[int, dict[str, Any]]:
        """``(HTTP status, JSON answer)`` for a submitted head."""
        if not head.verify(self.log_key):
            return HTTPStatus.BAD_REQUEST, {"error": "the signature does not verify"}
        with self.lock:
            last = self.latest()
            if last is not None and (
                head.timestamp_ms < last.timestamp_ms or head.tree_size < last.tree_size
            ):
                return HTTPStatus.CONFLICT, {
                    "error": "older than the newest witnessed head",
                    "latest": self.answer(last),
                }
            self.file.append(head)
        return HTTPStatus.OK, self.answer(head)


def make_server(witness: Witness, host: str, port: int) -> ThreadingHTTPServer:
    """An HTTP server for ``witness`` (``port`` 0: any free port); call ``serve_forever``."""

    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, doc: dict[str, Any]) -> None:
            body = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path != "/v1/latest":
                self._send(HTTPStatus.NOT_FOUND, {"error": "not found"})
                return
            last = witness.latest()
            if last is None:
                self._send(HTTPStatus.NOT_FOUND, {"error": "no head witnessed yet"})
            else:
                self._send(HTTPStatus.OK, witness.answer(last))

        def do_POST(self) -> None:
            if self.path != "/v1/heads":
                self._send(HTTPStatus.NOT_FOUND, {"error": "not found"})
                return
            try:
                length = int(self.headers.get("Content-Length", "0"))
                if not 0 < length <= 4096:
                    raise InputError(f"body of {length} bytes: expected one STH")
                doc = json.loads(self.rfile.read(length))
                if not isinstance(doc, dict):
                    raise InputError("not a JSON object")
                head = TreeHead.from_json(doc)
            except (ValueError, InputError) as error:
                self._send(HTTPStatus.BAD_REQUEST, {"error": str(error)})
                return
            try:
                status, answer = witness.witness(head)
            except LedgerError as error:
                self._send(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": str(error)})
                return
            self._send(status, answer)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
            return

    return ThreadingHTTPServer((host, port), Handler)


def _request(request: urllib.request.Request, timeout_s: float) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            doc = json.loads(response.read())
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace")[:300]
        raise LedgerError(
            f"见证方拒绝 / the witness {request.full_url} answered {error.code}: {detail}"
        ) from error
    except (OSError, ValueError) as error:
        raise LedgerError(
            f"见证方不可达 / the witness {request.full_url} did not answer: {error}"
        ) from error
    if not isinstance(doc, dict):
        raise LedgerError(f"the witness {request.full_url} answered with no JSON object")
    return doc


def submit(url: str, head: TreeHead, *, timeout_s: float = 10.0) -> dict[str, Any]:
    """Send ``head`` to the witness at ``url``; its answer. :class:`LedgerError` when it
    cannot be reached or refuses."""
    body = json.dumps(head.to_json()).encode()
    request = urllib.request.Request(
        url.rstrip("/") + "/v1/heads",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    return _request(request, timeout_s)


def fetch_latest(url: str, *, timeout_s: float = 10.0) -> TreeHead:
    """The newest head the witness at ``url`` countersigned."""
    doc = _request(urllib.request.Request(url.rstrip("/") + "/v1/latest"), timeout_s)
    try:
        return TreeHead.from_json(doc["sth"], field="witness")
    except (KeyError, TypeError) as error:
        raise LedgerError(f"the witness {url} answered without an sth") from error
