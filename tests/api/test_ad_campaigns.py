"""Ad campaigns through the admin API: validation, change, end, and the report's figures
against a hand-computed example."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from models.database import SessionMaker
from services.ads.conversions import last_ad_click
from tests.api.ads import ask, campaign, create, creative, report, visitor_in
from tests.conftest import StoreKeys, event


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"variants": [{"key": "A", "weight": 1, "creative": creative()}] * 2}, "variants"),
        ({"variants": [{"key": "A", "weight": 0, "creative": creative()}]}, "variants.0.weight"),
        ({"variants": [{"key": "A", "weight": 1.5, "creative": creative()}]}, "variants.0.weight"),
        (
            {
                "variants": [
                    {
                        "key": "A",
                        "weight": 1,
                        "creative": {**creative(), "link_url": "javascript:x"},
                    }
                ]
            },
            "variants.0.creative.link_url",
        ),
        (
            {
                "variants": [
                    {"key": "A", "weight": 1, "creative": {**creative(), "title": "t" * 121}}
                ]
            },
            "variants.0.creative.title",
        ),
        ({"variants": [{"key": "A b", "weight": 1, "creative": creative()}]}, "variants.0.key"),
        ({"variants": []}, "variants"),
        ({"placements": ["sidebar"]}, "placements.0"),
        ({"placements": ["homepage_hero", "homepage_hero"]}, "placements"),
        (
            {"starts_at": "2030-01-02T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z"},
            "ends_at",
        ),
        (
            {"frequency_cap": {"max_impressions": 0, "window_seconds": 60}},
            "frequency_cap.max_impressions",
        ),
        ({"targeting": {"device_types": ["watch"]}}, "targeting.device_types.0"),
    ],
)
async def test_a_bad_campaign_is_refused_naming_the_field(
    api: httpx.AsyncClient, store: StoreKeys, change: dict[str, object], field: str
) -> None:
    response = await api.post("/v1/ad-campaigns", json=campaign(**change), headers=store.auth())
    assert response.status_code == 422, response.text
    assert field in [d["field"] for d in response.json()["error"]["details"]]


async def test_create_read_change_and_end(api: httpx.AsyncClient, store: StoreKeys) -> None:
    created = await create(
        api, store, frequency_cap={"max_impressions": 3, "window_seconds": 86400}
    )
    assert created["status"] == "live" and created["frequency_cap"]["max_impressions"] == 3
    path = f"/v1/ad-campaigns/{created['id']}"
    assert (await api.get(path, headers=store.auth())).json() == created
    changed = await api.patch(
        path, json={"priority": 99, "frequency_cap": None}, headers=store.auth()
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["priority"] == 99 and changed.json()["frequency_cap"] is None
    bad = await api.patch(path, json={"ends_at": "2000-01-01T00:00:00Z"}, headers=store.auth())
    assert bad.status_code == 422
    listed = (await api.get("/v1/ad-campaigns", headers=store.auth())).json()["items"]
    assert [c["id"] for c in listed] == [created["id"]]
    ended = await api.delete(path, headers=store.auth())
    again = await api.delete(path, headers=store.auth())
    assert ended.json()["status"] == "ended" and again.json() == ended.json()
    late = await api.patch(path, json={"priority": 1}, headers=store.auth())
    assert late.status_code == 409 and late.json()["error"]["code"] == "ad_campaign_ended"
    assert (await ask(api, store, "v1")).status_code == 204


async def _served(api: httpx.AsyncClient, store: StoreKeys, visitor: str) -> str:
    response = await ask(api, store, visitor)
    assert response.status_code == 200, response.text
    token = str(response.json()["impression_token"])
    assert (await report(api, store, token, "impression")).status_code == 202
    return token


async def _order(
    api: httpx.AsyncClient, store: StoreKeys, order_id: str, visitor: str, total: int, cur: str
) -> None:
    data = {
        "order_id": order_id,
        "customer_id": f"c_{visitor}",
        "currency": cur,
        "items": [{"product_id": "p1", "quantity": 1, "unit_price": total}],
        "total": total,
        "attribution": {"visitor_id": visitor},
    }
    batch = [event("order.placed", data)]
    response = await api.post("/v1/events", json={"events": batch}, headers=store.auth())
    assert response.status_code == 202, response.text


async def test_the_report_matches_a_hand_computed_example(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    """A (control): visitors a1 and a2 see it once each, a1 clicks and orders 20.00 USD.
    B: visitor b1 sees it twice, clicks both, orders 50.00 USD and 10.00 EUR. a2 orders too,
    without a click: not the ad's. CTR A = 1/2, B = 2/2. Posteriors Beta(2, 2) and Beta(3, 1):
    P(B > A) = integral of 3b^2 (3b^2 - 2b^3) db over [0, 1] = 9/5 - 1 = 0.8."""
    made = await create(api, store)
    a1, a2 = visitor_in(made, "A", "a"), visitor_in(made, "A", "aa")
    b1 = visitor_in(made, "B", "b")
    t_a1 = await _served(api, store, a1)
    await _served(api, store, a2)
    for _ in range(2):
        assert (await report(api, store, await _served(api, store, b1), "click")).status_code == 202
    assert (await report(api, store, t_a1, "click")).status_code == 202
    await _order(api, store, "o1", a1, 2000, "USD")
    await _order(api, store, "o2", b1, 5000, "USD")
    await _order(api, store, "o3", b1, 1000, "EUR")
    await _order(api, store, "o4", a2, 7000, "USD")
    await _order(api, store, "o2", b1, 5000, "USD")  # the same order again: counted once
    got = await api.get(f"/v1/ad-campaigns/{made['id']}/report", headers=store.auth())
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["control"] == "A" and "Evan Miller" in body["method"]
    a, b = body["variants"]
    assert a == {
        "key": "A",
        "impressions": 2,
        "unique_visitors": 2,
        "clicks": 1,
        "ctr": 0.5,
        "orders": 1,
        "revenue": {"USD": 2000},
        "probability_beats_control": None,
    }
    assert {k: v for k, v in b.items() if k != "probability_beats_control"} == {
        "key": "B",
        "impressions": 2,
        "unique_visitors": 1,
        "clicks": 2,
        "ctr": 1.0,
        "orders": 2,
        "revenue": {"USD": 5000, "EUR": 1000},
    }
    assert b["probability_beats_control"] == pytest.approx(0.8, abs=1e-9)
    # `last_ad_click` looks 30 days back from `before`: a later or an older click is not it.
    now = datetime.now(UTC)
    async with sessionmaker() as session:
        assert (await last_ad_click(session, store.id, b1, now)) is not None
        assert (await last_ad_click(session, store.id, b1, now - timedelta(days=1))) is None
        assert (await last_ad_click(session, store.id, b1, now + timedelta(days=31))) is None


async def test_another_stores_campaign_is_not_found(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    made = await create(api, store)
    from tests.conftest import make_store

    other = await make_store(api, "Other")
    for method in ("GET", "DELETE"):
        response = await api.request(method, f"/v1/ad-campaigns/{made['id']}", headers=other.auth())
        assert (
            response.status_code == 404
            and response.json()["error"]["code"] == "ad_campaign_not_found"
        )
