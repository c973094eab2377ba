"""Recommendations: pins first, then same-category products; never itself or unavailable."""

from datetime import UTC, datetime, timedelta

import httpx

from tests.api.shop import add_products, fields_of
from tests.conftest import StoreKeys, event, make_store

CATALOG = (
    ("shoe", 5000, ["shoes"]),
    ("boot", 9000, ["shoes"]),
    ("sandal", 3000, ["shoes"]),
    ("runner", 7000, ["shoes", "sport"]),
    ("sock", 500, ["accessories"]),
    ("lace", 200, ["accessories"]),
    ("gone", 8000, ["shoes"]),
)


async def setup(api: httpx.AsyncClient, store: StoreKeys) -> None:
    await add_products(api, store, *CATALOG)
    # Newer than the upserts above, whenever the test runs.
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    deleted = event("product.deleted", {"product_id": "gone"}, at=later)
    await api.post("/v1/events", json={"events": [deleted]}, headers=store.auth())


async def shown(
    api: httpx.AsyncClient, store: StoreKeys, kind: str, limit: int = 4, product: str = "shoe"
) -> list[tuple[str, bool]]:
    response = await api.get(
        f"/v1/storefront/products/{product}/recommendations?type={kind}&limit={limit}",
        headers=store.auth("publishable"),
    )
    assert response.status_code == 200, response.text
    return [(i["product_id"], i["pinned"]) for i in response.json()["items"]]


async def test_fill_by_category(api: httpx.AsyncClient, store: StoreKeys) -> None:
    await setup(api, store)
    # Upsell: dearer only, nearest price first; never the deleted one or the product itself.
    assert await shown(api, store, "upsell") == [("runner", False), ("boot", False)]
    assert await shown(api, store, "cross_sell") == [
        ("boot", False),
        ("runner", False),
        ("sandal", False),
    ]
    assert await shown(api, store, "cross_sell", limit=1) == [("boot", False)]


async def test_pins_come_first(api: httpx.AsyncClient, store: StoreKeys) -> None:
    await setup(api, store)
    put = await api.put(
        "/v1/products/shoe/recommendations",
        json={"upsell": ["boot"], "cross_sell": ["sock", "lace"]},
        headers=store.auth(),
    )
    assert put.status_code == 200, put.text
    assert put.json() == {"product_id": "shoe", "upsell": ["boot"], "cross_sell": ["sock", "lace"]}
    assert await shown(api, store, "upsell") == [("boot", True), ("runner", False)]
    assert await shown(api, store, "cross_sell") == [
        ("sock", True),
        ("lace", True),
        ("boot", False),
        ("runner", False),
    ]
    # A pinned product that becomes unavailable is skipped.
    await add_products(api, store, ("sock", 500, ["accessories"]), available=False)
    assert (await shown(api, store, "cross_sell"))[0] == ("lace", True)
    read = await api.get("/v1/products/shoe/recommendations", headers=store.auth())
    assert read.json()["cross_sell"] == ["sock", "lace"]


async def test_bad_pins_name_the_field(api: httpx.AsyncClient, store: StoreKeys) -> None:
    await setup(api, store)
    cases = [
        ({"upsell": ["boot", "nope"]}, "upsell.1"),
        ({"cross_sell": ["shoe"]}, "cross_sell.0"),
        ({"upsell": ["boot", "boot"]}, "upsell.1"),
        ({"upsell": ["gone"]}, "upsell.0"),
        ({"sideways": []}, "sideways"),
    ]
    for body, field in cases:
        response = await api.put(
            "/v1/products/shoe/recommendations", json=body, headers=store.auth()
        )
        assert response.status_code == 422, (body, response.text)
        assert fields_of(response) == {field}
    bad_type = await api.get(
        "/v1/storefront/products/shoe/recommendations?type=sideways",
        headers=store.auth("publishable"),
    )
    assert bad_type.status_code == 422 and fields_of(bad_type) == {"query.type"}


async def test_unknown_product_and_other_store(api: httpx.AsyncClient, store: StoreKeys) -> None:
    await setup(api, store)
    other = await make_store(api, "Other")
    for keys in (store, other):
        response = await api.get(
            "/v1/storefront/products/nope/recommendations?type=upsell",
            headers=keys.auth("publishable"),
        )
        assert response.status_code == 404
    foreign = await api.get(
        "/v1/storefront/products/shoe/recommendations?type=upsell",
        headers=other.auth("publishable"),
    )
    assert foreign.status_code == 404
    pins = await api.put(
        "/v1/products/shoe/recommendations", json={"upsell": []}, headers=other.auth()
    )
    assert pins.status_code == 404
    public = await api.put(
        "/v1/products/shoe/recommendations", json={}, headers=store.auth("publishable")
    )
    assert public.status_code == 403
