"""Promo-code rules: created for coupon-only promotions, issuing unique single-use codes for one
customer until disabled, ended or out of codes."""

from datetime import UTC, datetime, timedelta

import httpx

from models import Coupon
from models.database import SessionMaker
from services.messaging.promo_codes import issue_code
from tests.api.shop import promotion
from tests.conftest import StoreKeys, make_store
from tests.workflows.journey import TWO_STEP_FLOW

TEN_OFF = {"type": "percent_off", "percent": 10, "target": "cart"}


async def rule(api: httpx.AsyncClient, store: StoreKeys, **fields: object) -> dict[str, object]:
    promo = await promotion(api, store, TEN_OFF, requires_coupon=True)
    body = {"promotion_id": promo["id"], "expires_after_days": 7, **fields}
    response = await api.post("/v1/promo-code-rules", json=body, headers=store.auth())
    assert response.status_code == 201, response.text
    result: dict[str, object] = response.json()
    return result


async def test_rules_are_created_read_listed_and_disabled(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    created = await rule(api, store, prefix="BACK", max_codes=2)
    assert (created["enabled"], created["issued_count"], created["max_codes"]) == (True, 0, 2)
    rule_url = f"/v1/promo-code-rules/{created['id']}"
    assert (await api.get(rule_url, headers=store.auth())).json()["id"] == created["id"]
    listed = (await api.get("/v1/promo-code-rules", headers=store.auth())).json()["items"]
    assert [r["id"] for r in listed] == [created["id"]]
    disabled = await api.patch(rule_url, json={"enabled": False}, headers=store.auth())
    assert disabled.json()["enabled"] is False
    other = await make_store(api, "Other")
    assert (await api.get(rule_url, headers=other.auth())).status_code == 404


async def test_bad_rules_are_rejected(api: httpx.AsyncClient, store: StoreKeys) -> None:
    automatic = await promotion(api, store, TEN_OFF)
    cases = [
        ({"promotion_id": automatic["id"], "expires_after_days": 7}, "promotion_id"),
        ({"promotion_id": "prm_nope", "expires_after_days": 7}, "promotion_id"),
        ({"promotion_id": automatic["id"], "expires_after_days": 0}, "expires_after_days"),
        ({"promotion_id": automatic["id"], "expires_after_days": 7, "max_codes": 0}, "max_codes"),
    ]
    for body, field in cases:
        response = await api.post("/v1/promo-code-rules", json=body, headers=store.auth())
        assert response.status_code == 422, body
        assert response.json()["error"]["details"][0]["field"] == field


async def test_a_flow_may_name_only_rules_of_its_store(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    other = await make_store(api, "Other")
    foreign = await rule(api, other)
    steps = [{**TWO_STEP_FLOW["steps"][0], "promo_code_rule_id": foreign["id"]}]
    response = await api.put(
        "/v1/flows/abandoned_cart", json={**TWO_STEP_FLOW, "steps": steps}, headers=store.auth()
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "steps.promo_code_rule_id"


async def test_codes_are_unique_single_use_for_one_customer_until_max_codes(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    created = await rule(api, store, prefix="BACK", max_codes=2)
    rule_id = str(created["id"])
    async with sessionmaker.begin() as session:
        first = await issue_code(session, store.id, rule_id, "c_1")
        second = await issue_code(session, store.id, rule_id, "c_2")
        third = await issue_code(session, store.id, rule_id, "c_3")
    assert first and second and first != second and first.startswith("BACK") and third is None
    async with sessionmaker() as session:
        coupon = (
            await session.execute(Coupon.__table__.select().where(Coupon.code == first))
        ).one()
    assert (coupon.usage, coupon.usage_limit, coupon.customer_id) == ("limited", 1, "c_1")
    assert abs(coupon.expires_at - (datetime.now(UTC) + timedelta(days=7))) < timedelta(minutes=1)
    assert (await api.get(f"/v1/promo-code-rules/{rule_id}", headers=store.auth())).json()[
        "issued_count"
    ] == 2


async def test_a_disabled_rule_or_an_ended_promotion_gives_no_code(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    disabled = await rule(api, store)
    await api.patch(
        f"/v1/promo-code-rules/{disabled['id']}", json={"enabled": False}, headers=store.auth()
    )
    ended = await rule(api, store)
    response = await api.delete(f"/v1/promotions/{ended['promotion_id']}", headers=store.auth())
    assert response.status_code == 200
    async with sessionmaker.begin() as session:
        assert await issue_code(session, store.id, str(disabled["id"]), "c_1") is None
        assert await issue_code(session, store.id, str(ended["id"]), "c_1") is None
