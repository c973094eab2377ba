"""Coupons: one code or a batch, usage terms, and the checks on the promotion they name."""

import httpx

from services.checkout.code_text import ALPHABET
from tests.api.shop import PCT_10, coupon, fields_of, promotion
from tests.conftest import StoreKeys, make_store


async def test_single_code_is_normalised_and_unique(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    promo = await promotion(api, store, PCT_10, requires_coupon=True)
    created = await coupon(
        api, store, promo["id"], code=" spring10 ", usage="limited", usage_limit=3
    )
    assert created["code"] == "SPRING10" and created["used_count"] == 0
    assert created["usage_limit"] == 3
    taken = await api.post(
        "/v1/coupons",
        json={"promotion_id": promo["id"], "code": "Spring10", "usage": "unrestricted"},
        headers=store.auth(),
    )
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "coupon_code_taken"
    fetched = await api.get(f"/v1/coupons/{created['id']}", headers=store.auth())
    assert fetched.json() == created


async def test_generated_code_uses_the_unambiguous_alphabet(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    promo = await promotion(api, store, PCT_10, requires_coupon=True)
    created = await coupon(api, store, promo["id"])
    assert len(created["code"]) == 10 and set(created["code"]) <= set(ALPHABET)


async def test_batch_generates_unique_codes_with_prefix(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    promo = await promotion(api, store, PCT_10, requires_coupon=True)
    body = {
        "promotion_id": promo["id"],
        "count": 300,
        "prefix": "vip-",
        "usage": "single_use_per_customer",
    }
    response = await api.post("/v1/coupons/batch", json=body, headers=store.auth())
    assert response.status_code == 201, response.text
    codes = response.json()["codes"]
    assert len(codes) == len(set(codes)) == 300
    assert all(c.startswith("VIP-") and set(c[4:]) <= set(ALPHABET) for c in codes)
    assert not set("01OIL") & set("".join(c[4:] for c in codes))
    listed = await api.get(
        f"/v1/coupons?promotion_id={promo['id']}&limit=500", headers=store.auth()
    )
    assert {c["code"] for c in listed.json()["items"]} == set(codes)


async def test_bad_terms_name_the_field(api: httpx.AsyncClient, store: StoreKeys) -> None:
    promo = await promotion(api, store, PCT_10, requires_coupon=True)
    auto = await promotion(api, store, PCT_10)
    cases = [
        ({"promotion_id": promo["id"], "usage": "limited"}, "usage_limit"),
        ({"promotion_id": promo["id"], "usage": "unrestricted", "usage_limit": 2}, "usage_limit"),
        ({"promotion_id": promo["id"], "usage": "limited", "usage_limit": 0}, "usage_limit"),
        ({"promotion_id": promo["id"], "usage": "sometimes"}, "usage"),
        ({"promotion_id": promo["id"], "usage": "unrestricted", "code": "a b"}, "code"),
        ({"promotion_id": "promo_nope", "usage": "unrestricted"}, "promotion_id"),
        ({"promotion_id": auto["id"], "usage": "unrestricted"}, "promotion_id"),
    ]
    for body, field in cases:
        response = await api.post("/v1/coupons", json=body, headers=store.auth())
        assert response.status_code == 422, (body, response.text)
        assert fields_of(response) == {field}, (body, response.json())
    batch = {"promotion_id": promo["id"], "usage": "unrestricted", "count": 0}
    response = await api.post("/v1/coupons/batch", json=batch, headers=store.auth())
    assert response.status_code == 422 and fields_of(response) == {"count"}
    batch = {"promotion_id": promo["id"], "usage": "unrestricted", "count": 2, "prefix": "a b"}
    response = await api.post("/v1/coupons/batch", json=batch, headers=store.auth())
    assert response.status_code == 422 and fields_of(response) == {"prefix"}


async def test_ended_promotion_takes_no_new_codes(api: httpx.AsyncClient, store: StoreKeys) -> None:
    promo = await promotion(api, store, PCT_10, requires_coupon=True)
    await api.delete(f"/v1/promotions/{promo['id']}", headers=store.auth())
    response = await api.post(
        "/v1/coupons",
        json={"promotion_id": promo["id"], "usage": "unrestricted"},
        headers=store.auth(),
    )
    assert response.status_code == 422 and fields_of(response) == {"promotion_id"}


async def test_withdraw_and_other_store(api: httpx.AsyncClient, store: StoreKeys) -> None:
    promo = await promotion(api, store, PCT_10, requires_coupon=True)
    created = await coupon(api, store, promo["id"])
    other = await make_store(api, "Other")
    url = f"/v1/coupons/{created['id']}"
    assert (await api.get(url, headers=other.auth())).status_code == 404
    assert (await api.delete(url, headers=other.auth())).status_code == 404
    foreign = await api.post(
        "/v1/coupons",
        json={"promotion_id": promo["id"], "usage": "unrestricted"},
        headers=other.auth(),
    )
    assert foreign.status_code == 422 and fields_of(foreign) == {"promotion_id"}
    withdrawn = await api.delete(url, headers=store.auth())
    assert withdrawn.status_code == 200 and withdrawn.json()["disabled_at"] is not None
    assert (await api.get("/v1/coupons", headers=store.auth("publishable"))).status_code == 403
