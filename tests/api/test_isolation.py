"""A key of store A cannot read or change anything of store B, on every endpoint; a publishable
key cannot call the admin endpoints. Every operation of /openapi.json is checked, so an endpoint
added later is covered without editing this file."""

import re
from collections import defaultdict
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import Phase, find, settings
from sqlalchemy import select

from config import Settings
from models import Customer
from models.database import SessionMaker
from tests.api.fuzz_server import OPENAPI, LiveApi, seed
from tests.api.test_flow_lift import PERIOD
from tests.api.test_flow_lift import seed as seed_lift
from tests.conftest import StoreKeys, event, make_store

FLOW = {
    "enabled": True,
    "trigger_delay_seconds": 60,
    "steps": [{"delay_seconds": 0, "channel": "sms", "template": {"body": "B's message"}}],
}


async def seed_b(api: httpx.AsyncClient, b: StoreKeys) -> None:
    assert (
        await api.put("/v1/flows/abandoned_cart", json=FLOW, headers=b.auth())
    ).status_code == 200
    batch = [event("customer.upserted", {"customer_id": "shared", "first_name": "Bea"})]
    assert (
        await api.post("/v1/events", json={"events": batch}, headers=b.auth())
    ).status_code == 202


async def test_store_a_sees_nothing_of_store_b(
    api: httpx.AsyncClient, sessionmaker: SessionMaker
) -> None:
    a, b = await make_store(api, "A"), await make_store(api, "B")
    await seed_b(api, b)
    flow = (await api.get("/v1/flows/abandoned_cart", headers=a.auth())).json()
    assert flow["version"] == 0 and flow["enabled"] is False
    listed = (await api.get("/v1/flows", headers=a.auth())).json()["items"]
    assert all(f["version"] == 0 for f in listed)
    assert (await api.get("/v1/messages", headers=a.auth())).json()["items"] == []
    # A's events about the same customer id land in A only.
    batch = [event("customer.upserted", {"customer_id": "shared", "first_name": "Ann"})]
    await api.post("/v1/events", json={"events": batch}, headers=a.auth())
    async with sessionmaker() as session:
        names = dict(
            (
                await session.execute(
                    select(Customer.store_id, Customer.first_name).where(
                        Customer.customer_id == "shared"
                    )
                )
            )
            .tuples()
            .all()
        )
    assert names == {a.id: "Ann", b.id: "Bea"}
    # A's PUT makes A's version 1; B keeps its own version 1 untouched.
    await api.put("/v1/flows/abandoned_cart", json={**FLOW, "enabled": False}, headers=a.auth())
    b_flow = (await api.get("/v1/flows/abandoned_cart", headers=b.auth())).json()
    assert b_flow["enabled"] is True and b_flow["steps"][0]["template"]["body"] == "B's message"
    # B's runs and orders are not in A's lift.
    await seed_lift(sessionmaker, b.id, [("shared", True)], [("shared", 1, 4900, "placed")])
    a_lift, b_lift = [
        (await api.get("/v1/flows/abandoned_cart/lift", params=PERIOD, headers=k.auth())).json()
        for k in (a, b)
    ]
    assert a_lift["treated"]["runs"] == a_lift["holdout"]["runs"] == 0
    assert b_lift["holdout"]["converted_runs"] == 1


OPERATIONS = [
    (method.upper(), path, operation.get("x-access", "public"))
    for path, item in OPENAPI["paths"].items()
    for method, operation in item.items()
]
KEYED = [op for op in OPERATIONS if op[2] in ("secret", "publishable")]
STOREFRONT = {("POST", "/v1/checkout/evaluate")}  # and every path under /v1/storefront/
# Path parameters that name a fixed kind, not a resource of the store.
# Names every store has (a flow kind, a channel network), not ids of one store's resources:
# test_channels.py and the flow tests check those per store.
NOT_IDS = {"kind", "network"}
SCHEMA = schemathesis.openapi.from_dict(OPENAPI)


def ids(op: tuple[str, str, str]) -> str:
    return f"{op[0]} {op[1]}"


def test_only_the_storefront_takes_a_publishable_key() -> None:
    publishable = {(m, p) for m, p, access in OPERATIONS if access == "publishable"}
    assert publishable == {
        (m, p) for m, p, _ in KEYED if (m, p) in STOREFRONT or p.startswith("/v1/storefront/")
    }


def valid_body(method: str, path: str) -> Any:
    """A body of the right shape (auth is checked before the body, so any shape will do)."""
    operation = SCHEMA[path][method]
    if operation.body is None or not len(operation.body):
        return None
    return operation.as_strategy().example().body


def accepted_case(operation: Any, live: LiveApi, access: str) -> Any:
    """A generated case (query and body) that the store's own resource accepts (2xx), so that
    sent to another store's id, what answers is the lookup and not the validation. The search is
    derandomized: the same case every run."""

    # `find` replays the case it found: one accepted once stays so (a customer joins a deal once).
    accepted_before: set[str] = set()

    def accepted(case: Any) -> bool:
        case.path_parameters = {name: live.ids[name] for name in case.path_parameters or {}}
        if case.query is not None:
            case.query = {**case.query, **{k: v for k, v in live.query.items() if k in case.query}}
        key = repr((case.query, case.body))
        if key in accepted_before:
            return True
        if case.call(base_url=live.url, headers=live.headers(access)).status_code >= 300:
            return False
        accepted_before.add(key)
        return True

    return find(
        operation.as_strategy(),
        accepted,
        settings=settings(
            max_examples=500, derandomize=True, database=None, phases=[Phase.generate]
        ),
    )


@pytest.fixture(scope="session")
def store_b(live_url: str, settings: Settings) -> LiveApi:
    return seed(live_url, settings)


@pytest.mark.parametrize("op", KEYED, ids=ids)
def test_no_key_is_401(live_url: str, op: tuple[str, str, str]) -> None:
    method, path, _ = op
    concrete = path.format_map(defaultdict(lambda: "x"))
    response = httpx.request(method, live_url + concrete, json=valid_body(method, path))
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("op", [op for op in KEYED if op[2] == "secret"], ids=ids)
def test_a_publishable_key_is_403_on_admin_operations(
    live_api: LiveApi, op: tuple[str, str, str]
) -> None:
    method, path, _ = op
    concrete = path.format_map(live_api.ids)
    headers = live_api.headers("publishable")
    response = httpx.request(
        method, live_api.url + concrete, json=valid_body(method, path), headers=headers
    )
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    "op", [op for op in KEYED if set(re.findall(r"{(\w+)}", op[1])) - NOT_IDS], ids=ids
)
def test_another_stores_resource_is_404(
    live_api: LiveApi, store_b: LiveApi, op: tuple[str, str, str]
) -> None:
    """Store B's key on store A's ids: 404, as if they did not exist; A's resource unchanged.
    The request is one that B's own resource of the same kind accepts."""
    method, path, access = op
    case = accepted_case(SCHEMA[path][method], store_b, access)
    concrete = path.format_map(live_api.ids)
    before = httpx.get(live_api.url + concrete, headers=live_api.headers("secret"))
    case.path_parameters = {name: live_api.ids[name] for name in case.path_parameters}
    response = case.call(base_url=store_b.url, headers=store_b.headers(access))
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"].endswith("not_found")
    after = httpx.get(live_api.url + concrete, headers=live_api.headers("secret"))
    assert (after.status_code, after.text) == (before.status_code, before.text)


# The feeds take no key: their token names the store (services/channels/feed_tokens.py).
FEEDS = [p for m, p, a in OPERATIONS if a == "public" and p.startswith("/v1/feeds/")]


@pytest.mark.parametrize("path", FEEDS)
def test_a_feed_token_opens_its_own_stores_feed_only(
    live_api: LiveApi, store_b: LiveApi, path: str
) -> None:
    token = httpx.get(store_b.url + "/v1/feeds", headers=store_b.headers("secret")).json()["token"]
    response = httpx.get(live_api.url + path, params={"token": token})
    assert response.status_code == 200, response.text
    assert store_b.ids["product_id"] in response.text
    assert live_api.ids["product_id"] not in response.text
