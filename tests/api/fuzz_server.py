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
from services.growth.commissions import approve
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


def _approve(settings: Settings, store_id: str, order_ids: list[str]) -> None:
    """What the commission runs do after the hold (no worker runs in the fuzz run)."""

    async def run() -> None:
        engine = create_engine(settings.require_database_url())
        try:
            async with create_sessionmaker(engine).begin() as session:
                for order_id in order_ids:
                    await approve(session, store_id, order_id)
        finally:
            await engine.dispose()

    asyncio.run(run())


def _affiliate(http: httpx.Client, live: LiveApi, settings: Settings, store_id: str) -> None:
    """An affiliate with a payout made, and one approved commission left for the next payout."""
    auth = live.headers("secret")
    affiliate = _ok(
        http.post(
            "/v1/affiliates",
            json={
                "name": "Fuzz",
                "email": "fuzz@example.com",
                "commission": {"type": "fixed", "value": 100},
                "holding_days": 0,
                "payout": {"mode": "manual", "minimum": 0},
            },
            headers=auth,
        )
    )
    now = datetime.now(UTC).isoformat()
    orders = [f"o_{store_id}_{i}" for i in range(2)]
    for order_id in orders:
        data = {
            "order_id": order_id,
            "customer_id": f"c_{store_id}",
            "currency": "USD",
            "items": [],
            "total": 1000,
            "attribution": {"affiliate_id": affiliate["id"]},
        }
        order = {"id": f"evt_{uuid.uuid4().hex}", "type": "order.placed", "occurred_at": now}
        _ok(http.post("/v1/events", json={"events": [{**order, "data": data}]}, headers=auth))
        _approve(settings, store_id, [order_id])
        if order_id == orders[0]:
            payout = _ok(http.post(f"/v1/affiliates/{affiliate['id']}/payouts", headers=auth))
    live.ids |= {"affiliate_id": str(affiliate["id"]), "payout_id": str(payout["id"])}
    live.query["currency"] = "USD"


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
        order_id = f"o_{store['id']}"
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
            {
                "id": f"evt_{uuid.uuid4().hex}",
                "type": "order.placed",
                "occurred_at": now,
                "data": {
                    "order_id": order_id,
                    "customer_id": customer_id,
                    "currency": "USD",
                    "items": [{"product_id": product_id, "quantity": 1, "unit_price": 1000}],
                    "total": 1000,
                    "attribution": {"utm_source": "fuzz", "visitor_id": f"v_{store['id']}"},
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
        # The tests' channel override: nothing listens there, so the connection is `unchecked`.
        meta = {"pixel_id": "1", "ad_account_id": "2", "access_token": "fuzz-token"}
        _ok(http.put("/v1/channels/meta", json=meta, headers=auth))
        # An order with a Meta click: its conversion is what `GET /v1/conversions` shows.
        clicked = {
            "id": f"evt_{uuid.uuid4().hex}",
            "type": "order.placed",
            "occurred_at": now,
            "data": {
                "order_id": f"oc_{store['id']}",
                "customer_id": customer_id,
                "currency": "USD",
                "items": [{"product_id": product_id, "quantity": 1, "unit_price": 1000}],
                "total": 1000,
                "attribution": {"fbclid": "fuzz-click"},
            },
        }
        _ok(http.post("/v1/events", json={"events": [clicked]}, headers=auth))
        ad = _ok(
            http.post(
                "/v1/ad-campaigns",
                json={
                    "name": "Fuzz",
                    "placements": ["homepage_hero"],
                    "variants": [
                        {
                            "key": "A",
                            "weight": 1,
                            "creative": {
                                "title": "Fuzz",
                                "image_url": "https://cdn.example.com/a.png",
                                "link_url": "https://shop.example.com/",
                            },
                        }
                    ],
                },
                headers=auth,
            )
        )
        # The growth programs, on: a share link's visits are counted, a code is made on a read.
        credit = {"type": "store_credit", "amount": 500}
        http.put(
            "/v1/programs/referral",
            json={"enabled": True, "referrer_reward": credit, "holding_days": 0},
            headers=auth,
        ).raise_for_status()
        sharing = {"enabled": True, "reward": credit, "visits_required": 3, "window_days": 7}
        http.put("/v1/programs/sharing", json=sharing, headers=auth).raise_for_status()
        _ok(http.post("/v1/share-links", json={"customer_id": customer_id}, headers=auth))
        audience = _ok(
            http.post(
                "/v1/audiences",
                json={"name": "Fuzz", "rule": {"cart_abandoned": True}, "networks": ["meta"]},
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
            "network": "meta",  # a channel and a feed network both
            "campaign_id": str(ad["id"]),
            "audience_id": str(audience["id"]),
            "order_id": order_id,
        }
        secret = settings.unsubscribe_secret
        live.query = {
            "token": unsubscribe_token(secret, live.ids["store_id"], live.ids["message_id"]),
            "order_id": f"oc_{store['id']}",
        }
        _affiliate(http, live, settings, str(store["id"]))
        return live
