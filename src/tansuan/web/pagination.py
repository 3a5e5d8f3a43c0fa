"""Pagination of list endpoints and cheap ETags."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

import orjson
from fastapi import Query, Request
from starlette.responses import Response

from tansuan.web.deps import MAX_ID
from tansuan.web.responses import JSONBytes

Limit = Annotated[int, Query(ge=1, le=1000, description="items per page")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="items to skip")]


def page(items: list[Any], limit: int, offset: int) -> dict[str, Any]:
    """``{items, total, limit, offset, next_offset}`` of a list already in order."""
    chunk = items[offset : offset + limit]
    following = offset + limit if offset + limit < len(items) else None
    return {
        "items": chunk,
        "total": len(items),
        "limit": limit,
        "offset": offset,
        "next_offset": following,
    }


def with_etag(request: Request, body: Any) -> Response:
    """JSON with a strong ETag of its bytes; 304 when the client already has it."""
    data = orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)
    tag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers={"ETag": tag})
    response = JSONBytes(None, headers={"ETag": tag, "Cache-Control": "private, no-cache"})
    response.body = data
    response.headers["content-length"] = str(len(data))
    return response
