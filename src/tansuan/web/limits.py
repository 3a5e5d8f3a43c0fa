"""Size limits of the upload routes, enforced while the body streams in.

A pure ASGI middleware: before the route (and before FastAPI's form parser spools a
multipart body to disk) it compares a declared ``Content-Length`` with the route's limit
and refuses at once; a body without one (chunked) is counted as it arrives and refused at
the first byte over the limit. Either way the answer is a 413 problem document naming the
limit and its setting, and the route never runs, so nothing is stored. The rest of a
refused body is discarded by the server as it arrives (never buffered).

Limits (Settings): ``upload_max_bytes_readings`` (``POST /api/v1/readings``),
``upload_max_bytes_manual_data`` (``POST /api/v1/manual-data``) and
``evidence_max_bytes`` (``POST /api/v1/sites/{site}/evidence``); the two multipart routes
get :data:`MULTIPART_SLACK` on top for the form's other fields and boundaries (the file
itself is checked against its limit again by the route). The workbench's attachments and
the receipt check's report file are bounded like evidence; every other request body by
``upload_max_bytes_default``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from tansuan.errors import PayloadTooLarge
from tansuan.settings import Settings
from tansuan.web.problems import PROBLEM_BASE, status_of

log = logging.getLogger(__name__)

#: Room [bytes] for a multipart form's boundaries, headers and small fields beside the file.
MULTIPART_SLACK = 64 * 1024

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: (path pattern, setting name, slack added for multipart forms) of every bounded route.
ROUTES: tuple[tuple[re.Pattern[str], str, int], ...] = (
    (re.compile(r"/api/v1/readings/?"), "upload_max_bytes_readings", 0),
    (re.compile(r"/api/v1/manual-data/?"), "upload_max_bytes_manual_data", MULTIPART_SLACK),
    (re.compile(r"/api/v1/sites/[^/]+/evidence/?"), "evidence_max_bytes", MULTIPART_SLACK),
    # Files that become evidence (a verifier request's answer), and a report to verify.
    (
        re.compile(r"/api/v1/workbench/requests/[^/]+/attachment/?"),
        "evidence_max_bytes",
        MULTIPART_SLACK,
    ),
    (re.compile(r"/ui/workbench/requests/[^/]+/answer/?"), "evidence_max_bytes", MULTIPART_SLACK),
    (re.compile(r"/ledger/verify/?"), "evidence_max_bytes", MULTIPART_SLACK),
)

#: The setting bounding the body of every other request.
DEFAULT_SETTING = "upload_max_bytes_default"


def limit_of(settings: Settings, method: str, path: str) -> tuple[int, str]:
    """(body limit [bytes], setting name) of a request: its route's, else the default."""
    if method == "POST":
        for pattern, name, slack in ROUTES:
            if pattern.fullmatch(path):
                return int(getattr(settings, name)) + slack, name
    return int(getattr(settings, DEFAULT_SETTING)), DEFAULT_SETTING


def too_large(limit: int, setting: str) -> PayloadTooLarge:
    env = f"TANSUAN_{setting.upper()}"
    return PayloadTooLarge(
        f"请求体超过上限 {limit} 字节（{env}）；请分批发送 / the body is larger than the limit "
        f"of {limit} bytes ({env}); send smaller batches or files",
        field="body",
    )


class UploadLimits:
    """The middleware (``app.add_middleware(UploadLimits, settings=settings)``)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app, self.settings = app, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        bound: tuple[int, str] | None = None
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            bound = limit_of(self.settings, scope["method"], scope["path"])
        if bound is None:
            await self.app(scope, receive, send)
            return
        limit, setting = bound
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, send, limit, setting)
            return
        seen = 0
        refused = False

        async def counted_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    refused = True
                    await _refuse(scope, send, limit, setting)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:  # after the 413, the route's own answer (if any) is dropped
                await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not refused:
                raise
            # The route saw the body end early (a client disconnect): already answered 413.
            log.info("upload refused at %d bytes: %s %s", limit, scope["method"], scope["path"])


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(scope: Scope, send: Send, limit: int, setting: str) -> None:
    error = too_large(limit, setting)
    status, slug, title = status_of(error)
    body = orjson.dumps(
        {
            "type": PROBLEM_BASE + slug,
            "title": title,
            "status": status,
            "detail": error.message,
            "instance": scope["path"],
            "field": error.field,
            "limit_bytes": limit,
        }
    )
    log.warning(
        "upload refused: %s %s larger than %d bytes (%s)",
        scope["method"],
        scope["path"],
        limit,
        setting,
    )
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
