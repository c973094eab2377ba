"""Bundles: components checked against the catalog, the discount priced at checkout."""

import httpx

from tests.api.shop import add_products, cart, fields_of
from tests.conftest import StoreKeys, make_store


def kit(**discount: object) -> dict[str, object]:
    return {
        "name": "Kit",
        "components": [{"product_id": "a", "quantity": 1}, {"product_id": "b", "quantity": 1}],
        "discount": discount or {"type": "percent", "value": 10},
    }


async def test_create_and_price(api: httpx.AsyncClient, store: StoreKeys) -> None:
    await add_products(api, store, ("a", 2000, []), ("b", 3000, []))
    created = await api.post("/v1/bundles", json=kit(), headers=store.auth())
    assert created.status_code == 201, created.text
    bundle = created.json()
    assert bundle["currency"] is None and bundle["discount"] == {"type": "percent", "value": 10}
    priced = await api.post(
        "/v1/checkout/evaluate",
        json=cart(("a", 3, 2000), ("b", 2, 3000)),
        headers=store.auth("publishable"),
    )
    assert priced.json()["discounts"] == [
        {
            "source": "bundle",
            "bundle_id": bundle["id"],
            "amount": 1000,
            "lines": [{"index": 0, "amount": 400}, {"index": 1, "amount": 600}],
        }
    ]
    fetched = await api.get(f"/v1/bundles/{bundle['id']}", headers=store.auth())
    assert fetched.json() == bundle
    listed = await api.get("/v1/bundles", headers=store.auth())
    assert [b["id"] for b in listed.json()["items"]] == [bundle["id"]]
    deleted = await api.delete(f"/v1/bundles/{bundle['id']}", headers=store.auth())
    assert deleted.json()["disabled_at"] is not None
    after = await api.post(
        "/v1/checkout/evaluate", json=cart(("a", 1, 2000), ("b", 1, 3000)), headers=store.auth()
    )
    assert after.json()["discounts"] == []


async def test_fixed_bundle_takes_the_store_currency(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    await add_products(api, store, ("a", 2000, []), ("b", 3000, []))
    created = await api.post("/v1/bundles", json=kit(type="fixed", value=500), headers=store.auth())
    assert created.json()["currency"] == "USD"
    euros = cart(("a", 1, 2000), ("b", 1, 3000), currency="EUR")
    priced = await api.post("/v1/checkout/evaluate", json=euros, headers=store.auth())
    assert priced.json()["discounts"] == []


async def test_bad_bundles_name_the_field(api: httpx.AsyncClient, store: StoreKeys) -> None:
    await add_products(api, store, ("a", 2000, []), ("b", 3000, []))
    unknown = kit()
    unknown["components"] = [{"product_id": "a"}, {"product_id": "zzz"}]
    both = kit()
    both["components"] = [{"product_id": "a", "variant_id": "v"}]
    cases = [
        (unknown, "components.1.product_id"),
        (both, "components.0.product_id/variant_id"),
        (kit(type="percent", value=150), "discount.value"),
        (kit(type="fixed", value=-5), "discount.value"),
        (kit(type="fixed", value=2.5), "discount.value"),
        (kit(type="half"), "discount.type"),
        ({**kit(), "components": []}, "components"),
    ]
    for body, field in cases:
        response = await api.post("/v1/bundles", json=body, headers=store.auth())
        assert response.status_code == 422, (body, response.text)
        assert field in fields_of(response), (field, response.json())


async def test_other_store(api: httpx.AsyncClient, store: StoreKeys) -> None:
    await add_products(api, store, ("a", 2000, []), ("b", 3000, []))
    bundle = (await api.post("/v1/bundles", json=kit(), headers=store.auth())).json()
    other = await make_store(api, "Other")
    assert (await api.get(f"/v1/bundles/{bundle['id']}", headers=other.auth())).status_code == 404
    gone = await api.delete(f"/v1/bundles/{bundle['id']}", headers=other.auth())
    assert gone.status_code == 404
    # Products of another store's catalog are unknown here.
    foreign = await api.post("/v1/bundles", json=kit(), headers=other.auth())
    assert foreign.status_code == 422 and "components.0.product_id" in fields_of(foreign)


async def test_components_by_variant(api: httpx.AsyncClient, store: StoreKeys) -> None:
    variants = [{"variant_id": "a-red", "price": 2000, "available": True}]
    await add_products(api, store, ("a", 2000, []), variants=variants)
    await add_products(api, store, ("b", 3000, []))
    by_variant = kit()
    by_variant["components"] = [{"variant_id": "a-red"}, {"product_id": "b"}]
    created = await api.post("/v1/bundles", json=by_variant, headers=store.auth())
    assert created.status_code == 201, created.text
    unknown = kit()
    unknown["components"] = [{"variant_id": "a-blue"}, {"product_id": "b"}]
    refused = await api.post("/v1/bundles", json=unknown, headers=store.auth())
    assert refused.status_code == 422 and "components.0.variant_id" in fields_of(refused)
    # Another store's variant is unknown here, as its products are.
    other = await make_store(api, "Other")
    await add_products(api, other, ("b", 3000, []))
    foreign = await api.post("/v1/bundles", json=by_variant, headers=other.auth())
    assert foreign.status_code == 422 and fields_of(foreign) == {"components.0.variant_id"}
