"""The one place where tansuan errors become HTTP responses (RFC 9457 problem details)."""

from __future__ import annotations

from fastapi import Request

from tansuan.errors import (
    ConfigError,
    InputError,
    LedgerError,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    ProtocolError,
    StoreError,
    TansuanError,
    UnitError,
    UnknownFactor,
    UnprocessableInput,
    UnsupportedMediaType,
    ValidationFailed,
    VerificationFailed,
)
from tansuan.web.pages import page_error
from tansuan.web.responses import JSONBytes

#: Most specific class first: (error class, HTTP status, problem type slug, title).
STATUS: tuple[tuple[type[TansuanError], int, str, str], ...] = (
    (ValidationFailed, 422, "validation-failed", "The document failed validation"),
    (UnitError, 422, "unit-error", "Unknown unit or wrong dimension"),
    (UnsupportedMediaType, 415, "unsupported-media-type", "The file's type is not accepted"),
    (PayloadTooLarge, 413, "payload-too-large", "The file is larger than the limit"),
    (UnprocessableInput, 422, "unprocessable", "The request names nothing usable"),
    (InputError, 400, "bad-input", "The request cannot be used as sent"),
    (ProtocolError, 400, "protocol-error", "The message cannot be decoded"),
    (UnknownFactor, 404, "unknown-factor", "No reference data for this key"),
    (NotFound, 404, "not-found", "Not found"),
    (PermissionDenied, 403, "permission-denied", "Not allowed"),
    (VerificationFailed, 409, "verification-failed", "Verification failed"),
    (LedgerError, 500, "ledger-error", "The ledger cannot do this"),
    (StoreError, 503, "store-unavailable", "The store refused or failed"),
    (ConfigError, 500, "config-error", "The server is misconfigured"),
)

PROBLEM_BASE = "https://tansuan.dev/problems/"


def status_of(error: TansuanError) -> tuple[int, str, str]:
    for cls, status, slug, title in STATUS:
        if isinstance(error, cls):
            return status, slug, title
    return 500, "error", "Internal error"


async def problem_handler(request: Request, error: Exception) -> JSONBytes:
    """Render a :class:`TansuanError` as ``application/problem+json``."""
    assert isinstance(error, TansuanError)
    status, slug, title = status_of(error)
    if not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    ):
        # Dashboard pages: the same error, as HTML.
        return page_error(request, error)  # type: ignore[return-value]
    body: dict[str, object] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": error.message,
        "instance": request.url.path,
    }
    if error.field:
        body["field"] = error.field
    if isinstance(error, ValidationFailed):
        body["issues"] = [
            {"code": issue.code, "path": issue.path, "detail": issue.detail}
            for issue in error.issues
        ]
    headers = {"WWW-Authenticate": "Bearer"} if status == 403 else None
    return JSONBytes(
        body, status_code=status, media_type="application/problem+json", headers=headers
    )
