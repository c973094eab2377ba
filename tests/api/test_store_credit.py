"""Store credit: a signed ledger per customer and currency that never goes below zero."""

import asyncio

import httpx
import pytest

from tests.api.shop import fields_of
from tests.conftest import StoreKeys, event, make_store


@pytest.fixture
async def store(api: httpx.AsyncClient) -> StoreKeys:
    """A store that knows customer c_1 (credit for an unknown customer is a 404)."""
    keys = await make_store(api)
    batch = [event("customer.upserted", {"customer_id": "c_1"})]
    response = await api.post("/v1/events", json={"events": batch}, headers=keys.auth())
    assert response.status_code == 202
    return keys


def url(customer_id: str = "c_1") -> str:
    return f"/v1/customers/{customer_id}/store-credit"


async def post(
    api: httpx.AsyncClient, store: StoreKeys, amount: int, currency: str = "USD"
) -> httpx.Response:
    body = {"amount": amount, "currency": currency, "reason": "goodwill"}
    return await api.post(url(), json=body, headers=store.auth())


async def test_credit_debit_and_balance(api: httpx.AsyncClient, store: StoreKeys) -> None:
    first = await post(api, store, 2500)
    assert first.status_code == 201, first.text
    assert first.json()["balance_after"] == 2500
    debit = await post(api, store, -1000)
    assert debit.status_code == 201 and debit.json()["balance_after"] == 1500
    await post(api, store, 700, "EUR")
    summary = (await api.get(url(), headers=store.auth())).json()
    assert summary["balances"] == [
        {"currency": "EUR", "balance": 700},
        {"currency": "USD", "balance": 1500},
    ]
    assert [e["amount"] for e in summary["entries"]] == [700, -1000, 2500]
    page = (await api.get(url() + "/entries?limit=2", headers=store.auth())).json()
    assert len(page["items"]) == 2 and page["next_cursor"]


async def test_debit_below_zero_is_refused(api: httpx.AsyncClient, store: StoreKeys) -> None:
    await post(api, store, 1000)
    refused = await post(api, store, -1001)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "insufficient_store_credit"
    assert refused.json()["error"]["details"]["balance"] == 1000
    never = await post(api, store, -5, "EUR")
    assert never.status_code == 409


async def test_concurrent_debits_never_overdraw(api: httpx.AsyncClient, store: StoreKeys) -> None:
    await post(api, store, 1000)
    results = await asyncio.gather(*(post(api, store, -300) for _ in range(10)))
    assert sorted(r.status_code for r in results) == [201] * 3 + [409] * 7
    summary = (await api.get(url(), headers=store.auth())).json()
    assert summary["balances"] == [{"currency": "USD", "balance": 100}]


async def test_bad_input_names_the_field(api: httpx.AsyncClient, store: StoreKeys) -> None:
    cases = [
        ({"amount": 0, "currency": "USD", "reason": "x"}, "amount"),
        ({"amount": 1.5, "currency": "USD", "reason": "x"}, "amount"),
        ({"amount": 100, "currency": "dollars", "reason": "x"}, "currency"),
        ({"amount": 100, "currency": "USD", "reason": ""}, "reason"),
    ]
    for body, field in cases:
        response = await api.post(url(), json=body, headers=store.auth())
        assert response.status_code == 422, (body, response.text)
        assert fields_of(response) == {field}


async def test_unknown_customer_and_other_store(api: httpx.AsyncClient, store: StoreKeys) -> None:
    assert (await api.get(url("ghost"), headers=store.auth())).status_code == 404
    upsert = event("customer.upserted", {"customer_id": "c_known"})
    await api.post("/v1/events", json={"events": [upsert]}, headers=store.auth())
    known = await api.get(url("c_known"), headers=store.auth())
    assert known.status_code == 200 and known.json()["balances"] == []
    await post(api, store, 500)
    other = await make_store(api, "Other")
    assert (await api.get(url(), headers=other.auth())).status_code == 404
    assert (await api.get(url(), headers=store.auth("publishable"))).status_code == 403
