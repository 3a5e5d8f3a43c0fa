"""A JSON response rendered with orjson (FastAPI's own ORJSONResponse is deprecated)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse


class JSONBytes(JSONResponse):
    """``application/json`` rendered by orjson (numpy-aware, ~10x faster than json).

    A :class:`JSONResponse`, so that a route's ``response_model`` shows in ``/docs``; a
    route returning one directly is not re-validated against the model."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)
