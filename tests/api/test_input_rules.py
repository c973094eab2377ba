"""The input rule every request passes: text PostgreSQL cannot store is a 422 naming the field
(never a 500 that a platform would retry forever), a body that is not JSON is `invalid_json`, and
a non-ASCII unsubscribe link is simply unknown."""

import json
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import func, select

from models import Event
from models.database import SessionMaker
from tests.conftest import StoreKeys, event

NUL = "\u0000"


def customer(**data: object) -> dict[str, object]:
    return event("customer.upserted", {"customer_id": "c_1", **data})


async def stored_events(sessionmaker: SessionMaker, store_id: str) -> int:
    async with sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).select_from(Event).where(Event.store_id == store_id)
        )
    return int(count or 0)


@pytest.mark.parametrize(
    ("batch", "field"),
    [
        ([customer(first_name=f"A{NUL}da")], "events.0.data.first_name"),
        ([event("product.deleted", {"product_id": "p"}, event_id=f"evt{NUL}1")], "events.0.id"),
        (
            [
                customer(),
                event(
                    "cart.updated",
                    {"cart_id": f"c{NUL}", "currency": "USD", "items": []},
                ),
            ],
            "events.1.data.cart_id",
        ),
    ],
)
async def test_nul_in_an_event_is_a_422_naming_it_and_nothing_is_stored(
    api: httpx.AsyncClient,
    store: StoreKeys,
    sessionmaker: SessionMaker,
    batch: list[dict[str, object]],
    field: str,
) -> None:
    response = await api.post("/v1/events", json={"events": batch}, headers=store.auth())
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert [d["field"] for d in error["details"]] == [field]
    assert await stored_events(sessionmaker, store.id) == 0


async def test_an_unpaired_surrogate_is_refused_and_a_real_pair_or_escaped_text_is_not(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    lone = json.dumps({"events": [customer(first_name="x")]}).replace('"x"', '"\\ud800"')
    refused = await api.post(
        "/v1/events", content=lone, headers={**store.auth(), "Content-Type": "application/json"}
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["details"][0]["field"] == "events.0.data.first_name"
    # An emoji as a surrogate pair, and the six characters \u0000 written as text, are fine.
    fine = json.dumps({"events": [customer(first_name="\U0001f600 \\u0000")]})
    accepted = await api.post(
        "/v1/events", content=fine, headers={**store.auth(), "Content-Type": "application/json"}
    )
    assert accepted.status_code == 202, accepted.text
    assert await stored_events(sessionmaker, store.id) == 1


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("GET", "/v1/messages?customer_id=%00", None, "query.customer_id"),
        ("GET", "/v1/promotions/%00abc", None, "path.promotion_id"),
        ("POST", "/v1/promo-code-rules", {"promotion_id": f"p{NUL}"}, "promotion_id"),
        (
            "POST",
            "/v1/checkout/evaluate",
            {
                "currency": "USD",
                "items": [{"product_id": f"p{NUL}", "quantity": 1, "unit_price": 100}],
            },
            "items.0.product_id",
        ),
    ],
)
async def test_nul_anywhere_in_a_request_is_a_422_naming_the_field(
    api: httpx.AsyncClient,
    store: StoreKeys,
    method: str,
    path: str,
    body: dict[str, object] | None,
    field: str,
) -> None:
    response = await api.request(method, path, json=body, headers=store.auth())
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"] == field


async def test_a_body_that_is_not_json_is_invalid_json(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    response = await api.post(
        "/v1/events",
        content=b'{"events": [',
        headers={**store.auth(), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_json"


async def test_a_bad_body_with_a_wrong_key_is_401_not_422(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/v1/events",
        content=b"not json",
        headers={"Authorization": "Bearer sk_wrong", "Content-Type": "application/json"},
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_non_ascii_unsubscribe_link_is_unknown(
    api: httpx.AsyncClient, store: StoreKeys, method: str
) -> None:
    for path in (
        f"/v1/unsubscribe/{store.id}/msg_1?token={quote('tökén')}",
        f"/v1/unsubscribe/{quote('störe')}/msg_1?token=abc",
    ):
        response = await api.request(method, path)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["error"]["code"] == "not_found"


async def test_lists_in_events_are_bounded(api: httpx.AsyncClient, store: StoreKeys) -> None:
    line = {"product_id": "p", "quantity": 1, "unit_price": 100}
    cart = event("cart.updated", {"cart_id": "c", "currency": "USD", "items": [line] * 50_000})
    response = await api.post("/v1/events", json={"events": [cart]}, headers=store.auth())
    assert response.status_code in (413, 422)
    too_many = event("cart.updated", {"cart_id": "c", "currency": "USD", "items": [line] * 1001})
    response = await api.post("/v1/events", json={"events": [too_many]}, headers=store.auth())
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "data.items"
    long_text = customer(first_name="x" * 201)
    response = await api.post("/v1/events", json={"events": [long_text]}, headers=store.auth())
    assert response.status_code == 422
