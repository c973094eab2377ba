"""A local fake of TikTok Shop's Partner API (pytest-httpserver) that checks what TikTok checks:
the request's `sign` (over the path, the sorted params and the JSON body), the access token,
the shop cipher and the required product fields, and answers with TikTok's shapes
(`{code, message, request_id, data}`; a non-zero `code` is a refusal)."""

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from integrations.ad_networks import tiktok_sign

TIKTOK = {
    "app_key": "6abc",
    "shop_cipher": "ROW_cipher1",
    "app_secret": "right-app-secret",
    "access_token": "tts-access-token-9999",
}


def signed_webhook(payload: dict[str, Any], secret: str = TIKTOK["app_secret"]) -> dict[str, Any]:
    """The body and headers TikTok sends: Authorization = hex HMAC(secret, app_key + body)."""
    body = json.dumps(payload).encode()
    mac = hmac.new(secret.encode(), TIKTOK["app_key"].encode() + body, hashlib.sha256)
    return {
        "content": body,
        "headers": {"Authorization": mac.hexdigest(), "Content-Type": "application/json"},
    }


def status_change(order_id: str, status: str, timestamp: int = 1_764_000_000) -> dict[str, Any]:
    return {
        "type": 1,
        "shop_id": "7494000000001",
        "timestamp": timestamp,
        "data": {"order_id": order_id, "order_status": status, "update_time": timestamp},
    }


def tiktok_order(order_id: str, status: str, **extra: Any) -> dict[str, Any]:
    """An order as `GET /order/202309/orders` shows it: one line per unit, amounts as decimal
    strings in the currency's units."""
    return {
        "id": order_id,
        "status": status,
        "user_id": "7021436810468230477",
        "buyer_email": "v2bqmjpqjo3cnrfmp-bq@scs.tiktokw.us",
        "create_time": 1_764_000_000,
        "paid_time": 1_764_000_060,
        "update_time": 1_764_000_120,
        "payment": {
            "currency": "USD",
            "sub_total": "98.00",
            "shipping_fee": "5.00",
            "total_amount": "103.00",
        },
        "line_items": [
            {"id": "l1", "product_id": "172999", "seller_sku": "p_1", "sale_price": "49.00"},
            {"id": "l2", "product_id": "172999", "seller_sku": "p_1", "sale_price": "49.00"},
        ],
        **extra,
    }


def answer(
    data: Any = None, code: int = 0, message: str = "Success", status: int = 200
) -> Response:
    body = {"code": code, "message": message, "request_id": "2024TEST", "data": data or {}}
    return Response(json.dumps(body), status, content_type="application/json")


@dataclass
class FakeTikTok:
    server: HTTPServer
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    deactivated: list[str] = field(default_factory=list)
    calls: list[tuple[str, str]] = field(default_factory=list)
    down: bool = False  # answers 503, as TikTok's gateway does in an outage
    refusal: tuple[int, str] | None = None  # answers this error on product calls

    @property
    def url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def _refused(self, request: Request, signed_with_body: bool = True) -> Response | None:
        self.calls.append((request.method, request.path))
        if self.down:
            return Response("upstream unavailable", 503)
        params = {k: v for k, v in request.args.items()}
        body = request.get_data(as_text=True) if signed_with_body else ""
        expected = tiktok_sign(TIKTOK["app_secret"], request.path, params, body)
        if params.get("sign") != expected:
            return answer(code=106001, message="Invalid credentials", status=401)
        if request.headers.get("x-tts-access-token") != TIKTOK["access_token"]:
            return answer(code=105002, message="Expired credentials", status=401)
        if request.path != "/authorization/202309/shops" and (
            params.get("shop_cipher") != TIKTOK["shop_cipher"]
        ):
            return answer(code=106011, message="Invalid shop_cipher", status=400)
        return None

    def install(self) -> "FakeTikTok":
        def shops(request: Request) -> Response:
            refused = self._refused(request)
            shop = {"cipher": TIKTOK["shop_cipher"], "name": "Tents on TikTok"}
            return refused or answer({"shops": [shop]})

        def orders(request: Request) -> Response:
            if refused := self._refused(request):
                return refused
            ids = request.args.get("ids", "").split(",")
            return answer({"orders": [self.orders[i] for i in ids if i in self.orders]})

        def create(request: Request) -> Response:
            if refused := self._refused(request):
                return refused
            if self.refusal:
                return answer(code=self.refusal[0], message=self.refusal[1], status=400)
            product = json.loads(request.get_data())
            missing = [f for f in ("title", "description", "skus") if not product.get(f)]
            if missing or not all(s.get("seller_sku") and s.get("price") for s in product["skus"]):
                return answer(code=12052700, message=f"missing {missing or 'sku'}", status=400)
            tiktok_id = str(1729000 + len(self.products))
            self.products[tiktok_id] = product
            return answer({"product_id": tiktok_id, "skus": []})

        def update(request: Request) -> Response:
            if refused := self._refused(request):
                return refused
            tiktok_id = request.path.rsplit("/", 1)[1]
            if tiktok_id not in self.products:
                return answer(code=12019003, message="product not found", status=404)
            self.products[tiktok_id] = json.loads(request.get_data())
            return answer({"product_id": tiktok_id})

        def deactivate(request: Request) -> Response:
            if refused := self._refused(request):
                return refused
            self.deactivated += json.loads(request.get_data())["product_ids"]
            return answer({"errors": []})

        expect = self.server.expect_request
        expect("/authorization/202309/shops", method="GET").respond_with_handler(shops)
        expect("/order/202309/orders", method="GET").respond_with_handler(orders)
        expect("/product/202309/products/deactivate", method="POST").respond_with_handler(
            deactivate
        )
        expect("/product/202309/products", method="POST").respond_with_handler(create)
        for tiktok_id in range(1729000, 1729010):
            expect(f"/product/202309/products/{tiktok_id}", method="PUT").respond_with_handler(
                update
            )
        return self


async def connect(api: httpx.AsyncClient, auth: dict[str, str], fake: FakeTikTok) -> None:
    response = await api.put(
        "/v1/channels/tiktok_shop", json={**TIKTOK, "api_base_url": fake.url}, headers=auth
    )
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "connected", response.text
