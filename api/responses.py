"""Responses the routes share."""

from typing import Any

import orjson
from fastapi.responses import JSONResponse


class FastJSONResponse(JSONResponse):
    """JSON rendered by orjson (in C): a priced cart is hundreds of small objects, and the
    standard encoder spends more on them than pricing some carts does."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
