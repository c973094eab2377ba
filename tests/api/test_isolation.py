"""A key of store A cannot read or change anything of store B, on every endpoint; a publishable
key cannot call the admin endpoints."""

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from models import Customer
from models.database import SessionMaker
from tests.conftest import StoreKeys, event, make_store

FLOW = {
    "enabled": True,
    "trigger_delay_seconds": 60,
    "steps": [{"delay_seconds": 0, "channel": "sms", "template": {"body": "B's message"}}],
}


async def seed_b(api: httpx.AsyncClient, b: StoreKeys) -> None:
    assert (
        await api.put("/v1/flows/abandoned_cart", json=FLOW, headers=b.auth())
    ).status_code == 200
    batch = [event("customer.upserted", {"customer_id": "shared", "first_name": "Bea"})]
    assert (
        await api.post("/v1/events", json={"events": batch}, headers=b.auth())
    ).status_code == 202


async def test_store_a_sees_nothing_of_store_b(
    api: httpx.AsyncClient, sessionmaker: SessionMaker
) -> None:
    a, b = await make_store(api, "A"), await make_store(api, "B")
    await seed_b(api, b)
    flow = (await api.get("/v1/flows/abandoned_cart", headers=a.auth())).json()
    assert flow["version"] == 0 and flow["enabled"] is False
    listed = (await api.get("/v1/flows", headers=a.auth())).json()["items"]
    assert all(f["version"] == 0 for f in listed)
    assert (await api.get("/v1/messages", headers=a.auth())).json()["items"] == []
    # A's events about the same customer id land in A only.
    batch = [event("customer.upserted", {"customer_id": "shared", "first_name": "Ann"})]
    await api.post("/v1/events", json={"events": batch}, headers=a.auth())
    async with sessionmaker() as session:
        names = dict(
            (
                await session.execute(
                    select(Customer.store_id, Customer.first_name).where(
                        Customer.customer_id == "shared"
                    )
                )
            )
            .tuples()
            .all()
        )
    assert names == {a.id: "Ann", b.id: "Bea"}
    # A's PUT makes A's version 1; B keeps its own version 1 untouched.
    await api.put("/v1/flows/abandoned_cart", json={**FLOW, "enabled": False}, headers=a.auth())
    b_flow = (await api.get("/v1/flows/abandoned_cart", headers=b.auth())).json()
    assert b_flow["enabled"] is True and b_flow["steps"][0]["template"]["body"] == "B's message"


ADMIN_CALLS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/v1/flows", None),
    ("GET", "/v1/flows/abandoned_cart", None),
    ("PUT", "/v1/flows/abandoned_cart", FLOW),
    ("GET", "/v1/messages", None),
    ("POST", "/v1/events", {"events": [event("product.deleted", {"product_id": "p"})]}),
    ("POST", "/v1/shopper-tokens", {"customer_id": "ann"}),
]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_CALLS)
async def test_publishable_key_is_403_on_admin_endpoints(
    api: httpx.AsyncClient, store: StoreKeys, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = await api.request(method, path, json=body, headers=store.auth("publishable"))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_CALLS)
async def test_no_key_is_401_on_every_endpoint(
    api: httpx.AsyncClient, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = await api.request(method, path, json=body)
    assert response.status_code == 401
