"""Promotions CRUD: validation that names the field, soft delete, status, store isolation."""

import httpx

from tests.api.shop import FIXED_5, PCT_10, add_products, fields_of, promotion
from tests.conftest import StoreKeys, make_store


async def test_create_read_and_list(api: httpx.AsyncClient, store: StoreKeys) -> None:
    created = await promotion(
        api,
        store,
        PCT_10,
        name="Ten",
        priority=5,
        conditions=[{"type": "cart_total_min", "amount": 5000}],
    )
    assert created["status"] == "active" and created["priority"] == 5
    assert created["currency"] == "USD"  # an amount condition pins the store currency
    assert created["id"].startswith("promo_")
    fetched = await api.get(f"/v1/promotions/{created['id']}", headers=store.auth())
    assert fetched.json() == created
    await promotion(api, store, PCT_10, name="Later", starts_at="2099-01-01T00:00:00Z")
    listed = await api.get("/v1/promotions?limit=1", headers=store.auth())
    page = listed.json()
    assert [p["name"] for p in page["items"]] == ["Later"] and page["next_cursor"]
    rest = await api.get(f"/v1/promotions?cursor={page['next_cursor']}", headers=store.auth())
    assert [p["name"] for p in rest.json()["items"]] == ["Ten"]
    scheduled = await api.get("/v1/promotions?status=scheduled", headers=store.auth())
    assert [p["status"] for p in scheduled.json()["items"]] == ["scheduled"]


async def test_percent_only_promotion_has_no_currency(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    created = await promotion(api, store, PCT_10)
    assert created["currency"] is None


async def test_validation_names_the_field(api: httpx.AsyncClient, store: StoreKeys) -> None:
    cases = [
        ([{"type": "percent_off", "percent": 101, "target": "cart"}], [], "actions.0.percent"),
        ([{"type": "fixed_off", "amount": -1}], [], "actions.0.amount"),
        ([PCT_10, {"type": "teleport"}], [], "actions.1.type"),
        ([PCT_10], [{"type": "cart_total_min", "amont": 5}], "conditions.0.amont"),
        (
            [{"type": "free_product", "product_id": "nope", "quantity": 1}],
            [],
            "actions.0.product_id",
        ),
        ([], [], "actions"),
    ]
    for actions, conditions, field in cases:
        body = {"name": "Bad", "actions": actions, "conditions": conditions}
        response = await api.post("/v1/promotions", json=body, headers=store.auth())
        assert response.status_code == 422, (field, response.text)
        assert field in fields_of(response), (field, response.json())
    window = {
        "name": "W",
        "actions": [PCT_10],
        "starts_at": "2030-01-02T00:00:00Z",
        "ends_at": "2030-01-01T00:00:00Z",
    }
    response = await api.post("/v1/promotions", json=window, headers=store.auth())
    assert response.status_code == 422 and fields_of(response) == {"ends_at"}
    naive = {"name": "N", "actions": [PCT_10], "starts_at": "2030-01-01T00:00:00"}
    response = await api.post("/v1/promotions", json=naive, headers=store.auth())
    assert response.status_code == 422 and fields_of(response) == {"starts_at"}


async def test_free_product_must_be_in_the_catalog(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    await add_products(api, store, ("tote", 1500, []))
    created = await promotion(
        api, store, {"type": "free_product", "product_id": "tote", "quantity": 1}
    )
    assert created["actions"][0]["product_id"] == "tote"


async def test_patch_revalidates_and_delete_is_soft(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    created = await promotion(api, store, PCT_10)
    url = f"/v1/promotions/{created['id']}"
    patched = await api.patch(url, json={"priority": 9, "actions": [FIXED_5]}, headers=store.auth())
    assert patched.status_code == 200, patched.text
    assert patched.json()["priority"] == 9 and patched.json()["currency"] == "USD"
    bad = await api.patch(
        url,
        json={"actions": [{"type": "percent_off", "percent": 200, "target": "items"}]},
        headers=store.auth(),
    )
    assert bad.status_code == 422 and fields_of(bad) == {"actions.0.percent"}
    null = await api.patch(url, json={"name": None}, headers=store.auth())
    assert null.status_code == 422 and fields_of(null) == {"name"}
    deleted = await api.delete(url, headers=store.auth())
    assert deleted.status_code == 200 and deleted.json()["status"] == "disabled"
    again = await api.get(url, headers=store.auth())
    assert again.json()["status"] == "disabled"
    late = await api.patch(url, json={"priority": 1}, headers=store.auth())
    assert late.status_code == 409 and late.json()["error"]["code"] == "promotion_disabled"


async def test_other_store_sees_nothing(api: httpx.AsyncClient, store: StoreKeys) -> None:
    created = await promotion(api, store, PCT_10)
    other = await make_store(api, "Other")
    url = f"/v1/promotions/{created['id']}"
    for method in ("GET", "DELETE"):
        response = await api.request(method, url, headers=other.auth())
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    patch = await api.patch(url, json={"priority": 2}, headers=other.auth())
    assert patch.status_code == 404
    listed = await api.get("/v1/promotions", headers=other.auth())
    assert listed.json() == {"items": [], "next_cursor": None}


async def test_keys(api: httpx.AsyncClient, store: StoreKeys) -> None:
    body = {"name": "P", "actions": [PCT_10]}
    assert (await api.post("/v1/promotions", json=body)).status_code == 401
    response = await api.post("/v1/promotions", json=body, headers=store.auth("publishable"))
    assert response.status_code == 403
