"""Meta's catalog batch API (Graph API, documented REST, httpx): `items_batch` with
`allow_upsert` and `item_type=PRODUCT_ITEM`, then `check_batch_request_status` for the outcome
of each item. Graph errors are `{error: {message, type, code}}`: code 190 (or 401) is the access
token (`CredentialRejected`), another 4xx a refusal of the batch (`MetaRefused`), a 5xx, a 429
or no answer `NetworkUnavailable`. No business rule here; the token is never logged."""

import json
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from integrations.ad_networks import META_API, META_VERSION, CredentialRejected, _call, _json

MAX_REQUESTS = 5000  # per items_batch call


class MetaRefused(Exception):
    """Meta refused the batch: its message (no credential in it)."""


class MetaCatalog:
    def __init__(
        self, http: httpx.AsyncClient, token: str, catalog_id: str, base: str | None
    ) -> None:
        self._http = http
        self._headers = {"Authorization": f"Bearer {token}"}
        self._url = f"{(base or META_API).rstrip('/')}/{META_VERSION}/{catalog_id}"

    def _answer(self, response: httpx.Response) -> dict[str, Any]:
        body = _json(response)
        if response.status_code == 200:
            return body
        error = body.get("error") or {}
        code = error.get("code") if isinstance(error, dict) else None
        if code == 190 or response.status_code == 401:
            raise CredentialRejected("access_token", "Meta refused the access token (expired?)")
        message = error.get("message") if isinstance(error, dict) else None
        raise MetaRefused(f"Meta refused the batch: {str(message or response.status_code)[:300]}")

    async def items_batch(self, requests: Sequence[Mapping[str, Any]]) -> list[str]:
        """`POST /{catalog_id}/items_batch`: the handles to ask the batch's status with."""
        assert len(requests) <= MAX_REQUESTS
        response = await _call(
            self._http,
            "POST",
            f"{self._url}/items_batch",
            headers=self._headers,
            data={
                "allow_upsert": "true",
                "item_type": "PRODUCT_ITEM",
                "requests": json.dumps(list(requests), separators=(",", ":")),
            },
        )
        handles = self._answer(response).get("handles") or []
        return [str(h) for h in handles]

    async def batch_status(self, handle: str) -> dict[str, Any]:
        """`GET /{catalog_id}/check_batch_request_status?handle=`: `{status, errors: [{id,
        message}], ...}` (status `finished` once every item is processed)."""
        response = await _call(
            self._http,
            "GET",
            f"{self._url}/check_batch_request_status",
            params={"handle": handle},
            headers=self._headers,
        )
        data = self._answer(response).get("data") or [{}]
        first = data[0] if isinstance(data, list) and data else {}
        return first if isinstance(first, dict) else {}
