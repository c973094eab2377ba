"""The real app on a real port, for the fuzz run: uvicorn in a thread, on the test PostgreSQL,
with a store and one resource of each kind so that operations on an id reach a real one."""

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import uvicorn

from api.main import create_app
from config import Settings
from devstack.temporal import free_port
from models.database import create_engine, create_sessionmaker
from services.messaging.consent import unsubscribe_token
from tests.conftest import OPERATOR
from tests.integrations.rows import add_message

# The schema the app serves, built without connecting to anything: each operation of it is a
# test of its own in the fuzz run and the isolation test.
OPENAPI = create_app(
    Settings(environment="test", database_url="postgresql://openapi@localhost/x")
).openapi()


@dataclass
class LiveApi:
    url: str
    secret: str
    publishable: str
    # A real id for each path parameter name of the schema, and the query parameters that
    # must go with them (the unsubscribe link's token).
    ids: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)

    def headers(self, access: str) -> dict[str, str]:
        token = {"secret": self.secret, "publishable": self.publishable, "operator": OPERATOR}
        return {"Authorization": f"Bearer {token[access]}"} if access in token else {}


@contextmanager
def serve(settings: Settings) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the fuzz server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _ok(response: httpx.Response) -> dict[str, object]:
    assert response.status_code < 300, response.text
    return response.json() if response.content else {}


def _message(settings: Settings, store_id: str) -> str:
    """A message row, written straight to the database as the provider tests do."""

    async def add() -> str:
        engine = create_engine(settings.require_database_url())
        try:
            return await add_message(create_sessionmaker(engine), store_id, channel="email")
        finally:
            await engine.dispose()

    return asyncio.run(add())


def seed(url: str, settings: Settings) -> LiveApi:
    """A store with a customer, a product, a promotion with a rule, a coupon, a gift card and a
    bundle, each reachable by the id the schema's path parameters name."""
    with httpx.Client(base_url=url, timeout=30) as http:
        store = _ok(
            http.post(
                "/v1/stores",
                json={"name": "Fuzz", "currency": "USD", "timezone": "UTC"},
                headers={"Authorization": f"Bearer {OPERATOR}"},
            )
        )
        keys = {k["kind"]: k for k in store["keys"]}  # type: ignore[attr-defined]
        live = LiveApi(url, keys["secret"]["key"], keys["publishable"]["key"])
        # Ids of this store only: another store seeded the same way has none of them.
        customer_id, product_id = f"c_{store['id']}", f"p_{store['id']}"
        auth = live.headers("secret")
        now = datetime.now(UTC).isoformat()
        events = [
            {
                "id": f"evt_{uuid.uuid4().hex}",
                "type": "customer.upserted",
                "occurred_at": now,
                "data": {"customer_id": customer_id, "email": "fuzz@example.com"},
            },
            {
                "id": f"evt_{uuid.uuid4().hex}",
                "type": "product.upserted",
                "occurred_at": now,
                "data": {
                    "product_id": product_id,
                    "title": "Fuzz",
                    "price": 1000,
                    "currency": "USD",
                    "category_ids": ["c"],
                    "available": True,
                    # All a catalog feed needs, so the product is in the store's feeds.
                    "url": f"https://shop.example.com/{product_id}",
                    "image_url": f"https://cdn.example.com/{product_id}.jpg",
                    "description": "Fuzz & <friends>",
                    "brand": "Fuzz",
                },
            },
        ]
        _ok(http.post("/v1/events", json={"events": events}, headers=auth))
        promotion = _ok(
            http.post(
                "/v1/promotions",
                json={
                    "name": "Fuzz",
                    "requires_coupon": True,
                    "actions": [{"type": "percent_off", "percent": 10, "target": "cart"}],
                },
                headers=auth,
            )
        )
        rule = _ok(
            http.post(
                "/v1/promo-code-rules",
                json={"promotion_id": promotion["id"], "expires_after_days": 7},
                headers=auth,
            )
        )
        coupon = _ok(
            http.post(
                "/v1/coupons",
                json={"promotion_id": promotion["id"], "code": "FUZZ10", "usage": "unrestricted"},
                headers=auth,
            )
        )
        card = _ok(
            http.post(
                "/v1/gift-cards", json={"initial_balance": 5000, "currency": "USD"}, headers=auth
            )
        )
        bundle = _ok(
            http.post(
                "/v1/bundles",
                json={
                    "name": "Fuzz",
                    "components": [{"product_id": product_id, "quantity": 2}],
                    "discount": {"type": "percent", "value": 5},
                },
                headers=auth,
            )
        )
        # Nothing listens on the discard port, and no outbox runs here: a ping goes nowhere.
        hook = _ok(
            http.post(
                "/v1/webhook-endpoints",
                json={"url": "http://127.0.0.1:9/hook", "events": ["deal.activated"]},
                headers=auth,
            )
        )
        ping = _ok(http.post(f"/v1/webhook-endpoints/{hook['id']}/test", headers=auth))
        ends = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        deal = _ok(
            http.post(
                "/v1/group-deals",
                json={
                    "product_id": product_id,
                    "deal_price": 500,
                    "currency": "USD",
                    "min_participants": 5,
                    "ends_at": ends,
                },
                headers=auth,
            )
        )
        _ok(
            http.post(
                f"/v1/group-deals/{deal['id']}/participants",
                json={"customer_id": customer_id},
                headers=auth,
            )
        )
        spare = _ok(
            http.post(
                f"/v1/stores/{store['id']}/keys",
                json={"kind": "publishable"},
                headers=live.headers("operator"),
            )
        )
        live.ids = {
            "store_id": str(store["id"]),
            "key_id": str(spare["id"]),
            "customer_id": customer_id,
            "product_id": product_id,
            "kind": "abandoned_cart",
            "promotion_id": str(promotion["id"]),
            "rule_id": str(rule["id"]),
            "coupon_id": str(coupon["id"]),
            "code": str(card["code"]),
            "bundle_id": str(bundle["id"]),
            "message_id": _message(settings, str(store["id"])),
            "endpoint_id": str(hook["id"]),
            "delivery_id": str(ping["id"]),
            "deal_id": str(deal["id"]),
            "network": "google",
        }
        secret = settings.unsubscribe_secret
        live.query = {
            "token": unsubscribe_token(secret, live.ids["store_id"], live.ids["message_id"])
        }
        return live
