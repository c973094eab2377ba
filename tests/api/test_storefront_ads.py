"""POST /v1/storefront/ads and /ad-events: eligibility and priority, targeting, sticky variants,
the frequency cap under a burst, and the impression and click of a served ad."""

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from services.ads.serving import assign_variant
from tests.api.ads import ask, create, report, visitor_in
from tests.conftest import StoreKeys, event, make_store


async def served_campaign(
    api: httpx.AsyncClient, store: StoreKeys, visitor: str, **fields: Any
) -> Any:
    response = await ask(api, store, visitor, **fields)
    if response.status_code == 204:
        return None
    assert response.status_code == 200, response.text
    return response.json()["campaign_id"]


async def test_the_highest_priority_live_campaign_of_the_placement_is_served(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    assert (await ask(api, store, "v1")).status_code == 204  # no campaign at all
    low = await create(api, store, priority=1)
    high = await create(api, store, priority=5)
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    await create(api, store, priority=50, starts_at=later)  # scheduled: not yet
    await create(api, store, priority=60, placements=["checkout_upsell"])
    answer = await ask(api, store, "v1")
    assert answer.status_code == 200
    body = answer.json()
    assert body["campaign_id"] == high["id"] and body["variant_key"] in ("A", "B")
    assert body["creative"]["title"] == body["variant_key"]
    assert len(body["impression_token"]) >= 32
    await api.delete(f"/v1/ad-campaigns/{high['id']}", headers=store.auth())
    assert await served_campaign(api, store, "v1") == low["id"]
    assert (await ask(api, store, "v1", placement="product_page")).status_code == 204


async def test_targeting(api: httpx.AsyncClient, store: StoreKeys) -> None:
    now = datetime.now(UTC).isoformat()
    batch = [
        event("customer.upserted", {"customer_id": "vip", "shopper_groups": ["vip"]}),
        event("customer.upserted", {"customer_id": "plain", "shopper_groups": ["retail"]}),
        event(
            "product.upserted",
            {
                "product_id": "tent",
                "title": "Tent",
                "price": 100,
                "currency": "USD",
                "category_ids": ["outdoor"],
                "available": True,
            },
            at=now,
        ),
    ]
    assert (
        await api.post("/v1/events", json={"events": batch}, headers=store.auth())
    ).status_code == 202
    desktop = await create(api, store, priority=40, targeting={"device_types": ["desktop"]})
    vip = await create(api, store, priority=30, targeting={"shopper_groups": ["vip"]})
    outdoor = await create(
        api,
        store,
        priority=20,
        placements=["product_page"],
        targeting={"category_ids": ["outdoor"]},
    )
    fallback = await create(api, store, priority=0, placements=["homepage_hero", "product_page"])
    assert await served_campaign(api, store, "t1", device_type="desktop") == desktop["id"]
    assert await served_campaign(api, store, "t1", customer_id="vip") == vip["id"]
    assert await served_campaign(api, store, "t1", customer_id="plain") == fallback["id"]
    assert await served_campaign(api, store, "t1") == fallback["id"]  # anonymous: no groups
    # A product page: the product's categories in the catalog count, as does the page's own.
    assert (
        await served_campaign(api, store, "t1", placement="product_page", product_id="tent")
        == outdoor["id"]
    )
    assert (
        await served_campaign(api, store, "t1", placement="product_page", category_id="outdoor")
        == outdoor["id"]
    )
    assert (
        await served_campaign(api, store, "t1", placement="product_page", product_id="other")
        == fallback["id"]
    )


async def test_new_visitors_only_shows_on_a_visitors_first_ad(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    welcome = await create(api, store, priority=9, targeting={"new_visitors_only": True})
    regular = await create(api, store, priority=1)
    assert await served_campaign(api, store, "fresh") == welcome["id"]
    assert await served_campaign(api, store, "fresh") == regular["id"]
    assert await served_campaign(api, store, "fresh2") == welcome["id"]


async def test_a_visitor_keeps_their_variant_when_the_weights_change(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    made = await create(api, store)
    heavier_a = [{**made["variants"][0], "weight": 1000}, {**made["variants"][1], "weight": 1}]
    # A visitor in B now, whom the new weights would put in A.
    visitor = next(
        f"s{n}"
        for n in range(10_000)
        if assign_variant(made["id"], f"s{n}", made["variants"]) == "B"
        and assign_variant(made["id"], f"s{n}", heavier_a) == "A"
    )
    assert (await ask(api, store, visitor)).json()["variant_key"] == "B"
    patched = await api.patch(
        f"/v1/ad-campaigns/{made['id']}", json={"variants": heavier_a}, headers=store.auth()
    )
    assert patched.status_code == 200, patched.text
    for _ in range(3):
        assert (await ask(api, store, visitor)).json()["variant_key"] == "B"
    newcomer = next(
        f"n{n}"
        for n in range(10_000)
        if assign_variant(made["id"], f"n{n}", made["variants"]) == "B"
        and assign_variant(made["id"], f"n{n}", heavier_a) == "A"
    )
    assert (await ask(api, store, newcomer)).json()["variant_key"] == "A"


async def test_a_burst_of_50_requests_serves_exactly_the_cap_of_3(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    capped = await create(
        api, store, priority=9, frequency_cap={"max_impressions": 3, "window_seconds": 86400}
    )
    backup = await create(api, store, priority=1)
    answers = await asyncio.gather(*(ask(api, store, "burst") for _ in range(50)))
    assert {a.status_code for a in answers} == {200}
    served = Counter(a.json()["campaign_id"] for a in answers)
    assert served == {capped["id"]: 3, backup["id"]: 47}
    # Another visitor has a cap of their own.
    assert await served_campaign(api, store, "other") == capped["id"]


async def test_impressions_and_clicks_are_counted_once(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    await create(api, store)
    token = (await ask(api, store, "e1")).json()["impression_token"]
    early = await report(api, store, token, "click")
    assert early.status_code == 409 and early.json()["error"]["code"] == "impression_not_recorded"
    answers = [
        await report(api, store, token, kind)
        for kind in ("impression", "impression", "click", "click")
    ]
    assert [a.status_code for a in answers] == [202] * 4
    assert [a.json()["counted"] for a in answers] == [True, False, True, False]
    unknown = await report(api, store, "not-a-token", "impression")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "impression_not_found"
    other = await make_store(api, "Other")
    stolen = await report(api, other, token, "click")
    assert stolen.status_code == 404 and stolen.json()["error"]["code"] == "impression_not_found"


async def test_duplicate_impressions_in_a_burst_count_once(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    made = await create(api, store)
    token = (await ask(api, store, "d1")).json()["impression_token"]
    answers = await asyncio.gather(*(report(api, store, token, "impression") for _ in range(20)))
    assert sum(a.json()["counted"] for a in answers) == 1
    figures = (await api.get(f"/v1/ad-campaigns/{made['id']}/report", headers=store.auth())).json()
    assert sum(v["impressions"] for v in figures["variants"]) == 1


async def test_a_burst_of_single_events_from_two_stores_counts_each_once(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    """Requests that arrive together are counted together: still once per token and kind,
    and a token is still unknown to another store in the same burst."""
    await create(api, store)
    other = await make_store(api, "Other shop")
    await create(api, other)
    mine = [(await ask(api, store, f"b{i}")).json()["impression_token"] for i in range(5)]
    theirs = [(await ask(api, other, f"b{i}")).json()["impression_token"] for i in range(3)]
    burst = [(store, t, "impression") for t in mine * 2] + [
        (other, t, "impression") for t in theirs
    ]
    burst += [(other, t, "impression") for t in mine]
    answers = await asyncio.gather(*(report(api, who, t, kind) for who, t, kind in burst))
    counted = Counter(
        (who.id, t)
        for (who, t, _), a in zip(burst, answers, strict=True)
        if a.status_code == 202 and a.json()["counted"]
    )
    assert counted == {(store.id, t): 1 for t in mine} | {(other.id, t): 1 for t in theirs}
    assert [a.status_code for a in answers[-5:]] == [404] * 5
    clicks = [(store, t, "click") for t in mine * 2] + [(other, t, "click") for t in theirs]
    answers = await asyncio.gather(*(report(api, who, t, kind) for who, t, kind in clicks))
    assert {a.status_code for a in answers} == {202}
    assert sum(a.json()["counted"] for a in answers) == len(mine) + len(theirs)


async def test_variants_follow_their_weights(api: httpx.AsyncClient, store: StoreKeys) -> None:
    """Bucketing spreads visitors by weight (3:1 here), the same for every serve of a visitor."""
    made = await create(api, store)
    weights = [{**made["variants"][0], "weight": 3}, {**made["variants"][1], "weight": 1}]
    split = Counter(assign_variant(made["id"], f"w{n}", weights) for n in range(4000))
    assert 2850 < split["A"] < 3150
    assert visitor_in(made, "A") != visitor_in(made, "B")


async def test_a_beacon_batch_counts_each_event_once(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    await create(api, store)
    token = (await ask(api, store, "b1")).json()["impression_token"]
    alone = (await ask(api, store, "b2")).json()["impression_token"]
    batch = {
        "events": [
            {"impression_token": token, "type": "click"},  # its impression is in the batch
            {"impression_token": token, "type": "impression"},
            {"impression_token": token, "type": "impression"},
            {"impression_token": token, "type": "click"},
            {"impression_token": "not-a-token", "type": "impression"},
            {"impression_token": alone, "type": "click"},  # no impression anywhere: refused
        ]
    }
    response = await api.post(
        "/v1/storefront/ad-events/batch", json=batch, headers=store.auth("publishable")
    )
    assert response.status_code == 202, response.text
    results = [(r["counted"], r["error"]) for r in response.json()["results"]]
    assert results == [
        (True, None),
        (True, None),
        (False, None),
        (False, None),
        (False, "impression_not_found"),
        (False, "impression_not_recorded"),
    ]
    again = await report(api, store, token, "click")
    assert again.json()["counted"] is False  # the batch's click stands
    too_many = {"events": batch["events"] * 21}
    refused = await api.post(
        "/v1/storefront/ad-events/batch", json=too_many, headers=store.auth("publishable")
    )
    assert refused.status_code == 422
