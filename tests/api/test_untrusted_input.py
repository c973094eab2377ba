"""Input a storefront or an attacker controls: product links must be http(s) (a `javascript:`
link served by the recommendations endpoint would run in the shopper's page), and a forged list
cursor is a 422 in the envelope, however it is built."""

import base64

import httpx
from sqlalchemy import update

from models import Product
from models.database import SessionMaker
from tests.api.shop import add_products
from tests.conftest import StoreKeys, event


def product(pid: str, **fields: str) -> dict[str, object]:
    data = {"product_id": pid, "title": pid, "price": 1000, "currency": "USD"}
    return event("product.upserted", {**data, "category_ids": ["c"], "available": True, **fields})


async def test_only_http_urls_are_stored(api: httpx.AsyncClient, store: StoreKeys) -> None:
    bad = [
        ("url", "javascript:alert(document.cookie)"),
        ("url", "JavaScript:alert(1)"),
        ("image_url", "data:text/html,<script>alert(1)</script>"),
        ("url", "//evil.example/x"),
        ("image_url", "https:/no-host"),
        ("url", "ftp://files.example/x"),
        ("url", "java\tscript:alert(1)"),
    ]
    for field, value in bad:
        response = await api.post(
            "/v1/events", json={"events": [product("p", **{field: value})]}, headers=store.auth()
        )
        assert response.status_code == 422, (value, response.text)
        error = response.json()["error"]
        assert [(d["index"], d["field"]) for d in error["details"]] == [(0, f"data.{field}")]
    good = product("p", url="https://shop.example/p?x=1", image_url="http://cdn.example/p.jpg")
    response = await api.post("/v1/events", json={"events": [good]}, headers=store.auth())
    assert response.status_code == 202, response.text


async def test_recommendations_never_serve_a_script_link(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    """A row stored before the check came in is shown without its link."""
    await add_products(api, store, ("shoe", 5000, ["shoes"]), ("boot", 9000, ["shoes"]))
    async with sessionmaker.begin() as session:
        await session.execute(
            update(Product)
            .where(Product.store_id == store.id, Product.product_id == "boot")
            .values(url="javascript:alert(1)", image_url="https://cdn.example/boot.jpg")
        )
    response = await api.get(
        "/v1/storefront/products/shoe/recommendations?type=upsell",
        headers=store.auth("publishable"),
    )
    assert response.status_code == 200, response.text
    [boot] = response.json()["items"]
    assert boot["url"] is None and boot["image_url"] == "https://cdn.example/boot.jpg"


async def test_a_forged_cursor_is_a_422(api: httpx.AsyncClient, store: StoreKeys) -> None:
    nested = base64.urlsafe_b64encode(b"[" * 3000).decode()
    short_nested = base64.urlsafe_b64encode(b"[" * 700).decode()
    wrong_shape = base64.urlsafe_b64encode(b'[["2026-01-01T00:00:00Z"], "id"]').decode()
    for cursor in (nested, short_nested, wrong_shape, "garbage!"):
        for path in ("/v1/gift-cards", "/v1/messages"):
            response = await api.get(path, params={"cursor": cursor}, headers=store.auth())
            assert response.status_code == 422, (path, cursor[:20], response.text)
            error = response.json()["error"]
            assert error["code"] == "invalid_cursor"
            assert error["details"] == [
                {"field": "cursor", "message": error["details"][0]["message"]}
            ]
