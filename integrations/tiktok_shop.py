"""TikTok Shop's Partner API (documented REST, httpx): the webhook signature, the order detail
an order webhook points to, and the product calls of the catalog sync. Every request is signed
as REFERENCE.md says (`tiktok_sign`, the JSON body included) and carries the access token in
`x-tts-access-token`. TikTok answers `{code, message, data}`: `code` 0 is success; any other is
a refusal (`TikTokRefused`), a 5xx, a 429 or no answer is `NetworkUnavailable` (try later).
No business rule here; credentials are never logged or put in errors."""

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

import httpx

from integrations.ad_networks import TIKTOK_SHOP_API, _call, _json, tiktok_sign

ORDERS_PATH = "/order/202309/orders"
PRODUCTS_PATH = "/product/202309/products"
DEACTIVATE_PATH = "/product/202309/products/deactivate"


class TikTokRefused(Exception):
    """TikTok answered with a non-zero `code`: its code and message (no credential in them)."""

    def __init__(self, code: int | None, message: str) -> None:
        super().__init__(f"TikTok Shop refused the request: {message} (code {code})")
        self.code = code


def webhook_signature(app_key: str, app_secret: str, body: bytes) -> str:
    """The `Authorization` header of TikTok's webhooks: hex HMAC-SHA256(app secret, app key +
    raw body)."""
    return hmac.new(app_secret.encode(), app_key.encode() + body, hashlib.sha256).hexdigest()


def webhook_signature_ok(app_key: str, app_secret: str, body: bytes, header: str | None) -> bool:
    if not header:
        return False
    expected = webhook_signature(app_key, app_secret, body)
    return hmac.compare_digest(expected.encode(), header.strip().lower().encode())


class TikTokShopClient:
    """One store's shop: its ids (`app_key`, `shop_cipher`) and secrets (`app_secret`,
    `access_token`)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        ids: Mapping[str, str],
        secrets: Mapping[str, str],
        base_url: str | None,
    ) -> None:
        self._http = http
        self._ids = ids
        self._secrets = secrets
        self._base = (base_url or TIKTOK_SHOP_API).rstrip("/")

    async def _request(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        params = {
            **(query or {}),
            "app_key": self._ids["app_key"],
            "shop_cipher": self._ids["shop_cipher"],
            "timestamp": str(int(time.time())),
        }
        text = json.dumps(body, separators=(",", ":")) if body is not None else ""
        params["sign"] = tiktok_sign(self._secrets["app_secret"], path, params, text)
        headers = {"x-tts-access-token": self._secrets["access_token"]}
        if body is not None:
            headers["Content-Type"] = "application/json"
        response = await _call(
            self._http,
            method,
            f"{self._base}{path}",
            params=params,
            headers=headers,
            content=text.encode() if body is not None else None,
        )
        answer = _json(response)
        code = answer.get("code")
        if response.status_code == 200 and code == 0:
            data = answer.get("data")
            return data if isinstance(data, dict) else {}
        message = str(answer.get("message") or f"HTTP {response.status_code}")[:300]
        raise TikTokRefused(code if isinstance(code, int) else None, message)

    async def order(self, order_id: str) -> dict[str, Any] | None:
        """`GET /order/202309/orders?ids=`: the order's detail, None if the shop has no such
        order (another shop's order sent to this store's URL finds nothing)."""
        data = await self._request("GET", ORDERS_PATH, {"ids": order_id})
        orders = data.get("orders") or []
        found = [o for o in orders if isinstance(o, dict) and str(o.get("id")) == order_id]
        return found[0] if found else None

    async def create_product(self, product: Mapping[str, Any]) -> str:
        """`POST /product/202309/products`: TikTok's id of the new product."""
        data = await self._request("POST", PRODUCTS_PATH, body=product)
        return _product_id(data)

    async def update_product(self, tiktok_id: str, product: Mapping[str, Any]) -> str:
        """`PUT /product/202309/products/{id}`: the whole product, replaced."""
        data = await self._request("PUT", f"{PRODUCTS_PATH}/{tiktok_id}", body=product)
        return str(data.get("product_id") or tiktok_id)

    async def deactivate_products(self, tiktok_ids: list[str]) -> None:
        """`POST /product/202309/products/deactivate`: off sale, kept on TikTok's side."""
        await self._request("POST", DEACTIVATE_PATH, body={"product_ids": tiktok_ids})


def _product_id(data: Mapping[str, Any]) -> str:
    product_id = data.get("product_id")
    if not product_id:
        raise TikTokRefused(None, "TikTok Shop answered without a product id")
    return str(product_id)
