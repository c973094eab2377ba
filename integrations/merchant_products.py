"""Merchant API products (documented REST, httpx): a product input inserted into, or deleted
from, an API data source. The `google-shopping-merchant-products` SDK is gRPC-first (its REST
transport cannot be pointed at a plain local server as the tests need), so the REST API is
called directly. Google's errors are `{error: {code, message, status}}`: 401/403 is the token
(`CredentialRejected`), another 4xx a refusal of the product (`MerchantRefused`), a 5xx, a 429 or
no answer `NetworkUnavailable`. No business rule here; the token is never logged."""

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from integrations.ad_networks import MERCHANT_API, CredentialRejected, _call, _json

VERSION = "v1beta"


class MerchantRefused(Exception):
    """Merchant Center refused a product input: its message (no credential in it)."""


class MerchantProducts:
    def __init__(
        self,
        http: httpx.AsyncClient,
        token: str,
        merchant_id: str,
        data_source: str,
        base: str | None,
    ) -> None:
        self._http = http
        self._headers = {"Authorization": f"Bearer {token}"}
        self._account = f"accounts/{merchant_id}"
        self._data_source = data_source
        self._base = (base or MERCHANT_API).rstrip("/")

    def _check(self, response: httpx.Response) -> None:
        if response.status_code in (401, 403):
            raise CredentialRejected("refresh_token", "Merchant Center refused the access token")
        if response.status_code >= 400:
            error = _json(response).get("error") or {}
            message = error.get("message") if isinstance(error, dict) else None
            raise MerchantRefused(
                f"Merchant Center refused the product: {str(message or response.status_code)[:300]}"
            )

    async def insert(self, product_input: Mapping[str, Any]) -> None:
        """`POST /products/v1beta/accounts/{id}/productInputs:insert?dataSource=`."""
        response = await _call(
            self._http,
            "POST",
            f"{self._base}/products/{VERSION}/{self._account}/productInputs:insert",
            params={"dataSource": self._data_source},
            headers=self._headers,
            json=product_input,
        )
        self._check(response)

    async def delete(self, channel: str, language: str, feed_label: str, offer_id: str) -> None:
        """`DELETE /products/v1beta/accounts/{id}/productInputs/{channel~language~label~offer}`;
        one that is not there (404) is deleted already."""
        name = quote(f"{channel}~{language}~{feed_label}~{offer_id}", safe="~")
        response = await _call(
            self._http,
            "DELETE",
            f"{self._base}/products/{VERSION}/{self._account}/productInputs/{name}",
            params={"dataSource": self._data_source},
            headers=self._headers,
        )
        if response.status_code != 404:
            self._check(response)
