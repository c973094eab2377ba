"""POST /v1/events: whole-batch validation, idempotency by event id, projections."""

import httpx
from sqlalchemy import func, select

from models import Cart, Customer, Event
from models.database import SessionMaker
from tests.conftest import StoreKeys, event


def customer(customer_id: str = "c_1", **extra: object) -> dict[str, object]:
    return {"customer_id": customer_id, "email": "ana@example.com", **extra}


async def count_events(sessionmaker: SessionMaker, store_id: str) -> int:
    async with sessionmaker() as session:
        return int(
            await session.scalar(select(func.count()).where(Event.store_id == store_id)) or 0
        )


async def test_accepts_a_batch_and_projects_it(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    batch = [
        event("customer.upserted", customer(consent={"email": True}, timezone="Europe/Paris")),
        event(
            "cart.updated",
            {
                "cart_id": "k1",
                "customer_id": "c_1",
                "currency": "USD",
                "items": [{"product_id": "p1", "quantity": 2, "unit_price": 1250}],
            },
        ),
    ]
    response = await api.post("/v1/events", json={"events": batch}, headers=store.auth())
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 2, "duplicates": []}
    async with sessionmaker() as session:
        person = await session.get(Customer, (store.id, "c_1"))
        cart = await session.get(Cart, (store.id, "k1"))
    assert person is not None and person.consent_email and person.timezone == "Europe/Paris"
    assert cart is not None and cart.subtotal == 2500


async def test_a_retried_batch_is_counted_as_duplicates(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    batch = [
        event("customer.upserted", customer(), event_id="e1"),
        event("product.deleted", {"product_id": "p"}, event_id="e2"),
    ]
    first = await api.post("/v1/events", json={"events": batch}, headers=store.auth())
    again = await api.post("/v1/events", json={"events": batch}, headers=store.auth())
    assert first.json() == {"accepted": 2, "duplicates": []}
    assert again.status_code == 202
    assert again.json() == {"accepted": 0, "duplicates": ["e1", "e2"]}
    assert await count_events(sessionmaker, store.id) == 2


async def test_one_bad_event_rejects_the_batch_and_stores_nothing(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    batch = [
        event("customer.upserted", customer()),
        event("cart.updated", {"cart_id": "k", "currency": "usd", "items": []}),
        event(
            "product.upserted",
            {
                "product_id": "p",
                "title": "T",
                "price": -5,
                "currency": "USD",
                "category_ids": [],
                "available": True,
            },
        ),
        {"id": "x", "type": "no.such", "occurred_at": "2026-11-24T10:00:00Z", "data": {}},
    ]
    response = await api.post("/v1/events", json={"events": batch}, headers=store.auth())
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert {(d["index"], d["field"]) for d in error["details"]} >= {
        (1, "data.currency"),
        (2, "data.price"),
        (3, "type"),
    }
    assert all(d["index"] != 0 for d in error["details"])
    assert await count_events(sessionmaker, store.id) == 0


async def test_event_without_offset_or_with_unknown_field_is_rejected(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    naive = event("product.deleted", {"product_id": "p"}, at="2026-11-24T10:00:00")
    extra = event("product.deleted", {"product_id": "p", "colour": "red"})
    response = await api.post("/v1/events", json={"events": [naive, extra]}, headers=store.auth())
    assert response.status_code == 422
    fields = {(d["index"], d["field"]) for d in response.json()["error"]["details"]}
    assert fields == {(0, "occurred_at"), (1, "data.colour")}


async def test_batch_size_limits(api: httpx.AsyncClient, store: StoreKeys) -> None:
    empty = await api.post("/v1/events", json={"events": []}, headers=store.auth())
    assert empty.status_code == 422
    too_many = [event("product.deleted", {"product_id": f"p{i}"}) for i in range(501)]
    big = await api.post("/v1/events", json={"events": too_many}, headers=store.auth())
    assert big.status_code == 422


async def test_older_event_does_not_overwrite_newer_state(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    newer = event("customer.upserted", customer(first_name="New"), at="2026-11-24T12:00:00Z")
    older = event("customer.upserted", customer(first_name="Old"), at="2026-11-24T09:00:00Z")
    await api.post("/v1/events", json={"events": [newer]}, headers=store.auth())
    await api.post("/v1/events", json={"events": [older]}, headers=store.auth())
    async with sessionmaker() as session:
        person = await session.get(Customer, (store.id, "c_1"))
    assert person is not None and person.first_name == "New"


async def test_publishable_key_cannot_post_events(api: httpx.AsyncClient, store: StoreKeys) -> None:
    batch = [event("product.deleted", {"product_id": "p"})]
    response = await api.post(
        "/v1/events", json={"events": batch}, headers=store.auth("publishable")
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


async def test_a_number_too_large_for_64_bits_is_named_not_a_crash(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    body = (
        '{"events": [{"id": "big", "type": "product.deleted", "occurred_at": '
        '"2026-11-24T10:00:00Z", "data": {"product_id": 123456789012345678901234567890}}]}'
    )
    response = await api.post(
        "/v1/events",
        content=body,
        headers={**store.auth(), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert [(d["index"], d["id"], d["field"]) for d in details] == [(0, "big", "data.product_id")]
