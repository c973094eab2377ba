"""Outbound webhook endpoints through the API: the secret shown once, lists, deletes, another
store's ids 404, and production's refusal of local and plain-http URLs."""

import secrets
from collections.abc import AsyncIterator

import httpx
import pytest

from api.main import create_app
from config import PRODUCTION_SECRETS, Settings
from tests.conftest import StoreKeys, make_store

HOOK = "http://127.0.0.1:9/hook"  # nothing listens on the discard port; nothing is dispatched


async def create(api: httpx.AsyncClient, store: StoreKeys, **body: object) -> httpx.Response:
    payload = {"url": HOOK, "events": ["deal.activated", "payout.created"], **body}
    return await api.post("/v1/webhook-endpoints", json=payload, headers=store.auth())


async def test_the_secret_is_shown_once_and_never_listed(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    created = await create(api, store)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["events"] == [
        "deal.activated",
        "payout.created",
    ]

    listed = await api.get("/v1/webhook-endpoints", headers=store.auth())
    one = await api.get(f"/v1/webhook-endpoints/{body['id']}", headers=store.auth())

    assert [e["id"] for e in listed.json()["items"]] == [body["id"]]
    for response in (listed, one):
        assert response.status_code == 200
        assert body["secret"] not in response.text and "secret" not in response.text


@pytest.mark.parametrize(
    ("events", "field"),
    [(["deal.activated", "deal.exploded"], "events.1"), (["ping"], "events.0"), ([], "events")],
)
async def test_an_unknown_event_type_is_422_naming_it(
    api: httpx.AsyncClient, store: StoreKeys, events: list[str], field: str
) -> None:
    response = await create(api, store, events=events)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == field


async def test_a_deleted_endpoint_is_gone_and_gets_no_more_events(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    endpoint = (await create(api, store)).json()
    path = f"/v1/webhook-endpoints/{endpoint['id']}"

    assert (await api.delete(path, headers=store.auth())).status_code == 204

    assert (await api.delete(path, headers=store.auth())).status_code == 204  # a retried DELETE
    assert (await api.get(path, headers=store.auth())).status_code == 404
    assert (await api.post(f"{path}/test", headers=store.auth())).status_code == 404
    assert (await api.get("/v1/webhook-endpoints", headers=store.auth())).json()["items"] == []


async def test_a_test_ping_is_listed_with_its_status_and_filters(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    endpoint = (await create(api, store)).json()
    ping = await api.post(f"/v1/webhook-endpoints/{endpoint['id']}/test", headers=store.auth())
    assert ping.status_code == 202, ping.text
    delivery = ping.json()
    assert delivery["id"].startswith("whd_") and delivery["event"] == "ping"

    async def listed(query: str) -> httpx.Response:
        return await api.get(f"/v1/webhook-deliveries?{query}", headers=store.auth())

    pending = (await listed("event=ping&status=pending")).json()["items"]
    assert [(d["id"], d["status"], d["attempts"]) for d in pending] == [
        (delivery["id"], "pending", 0)
    ]
    assert (await listed("event=deal.activated")).json()["items"] == []
    assert (await listed("status=delivered")).json()["items"] == []
    assert (await listed("event=deal.exploded")).status_code == 422
    detail = await api.get(f"/v1/webhook-deliveries/{delivery['id']}", headers=store.auth())
    payload = detail.json()["payload"]
    assert payload["id"] == delivery["id"] and payload["type"] == "ping"
    assert payload["data"] == {"endpoint_id": endpoint["id"]}


async def test_another_stores_endpoint_and_delivery_are_404(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    endpoint = (await create(api, store)).json()
    delivery = (
        await api.post(f"/v1/webhook-endpoints/{endpoint['id']}/test", headers=store.auth())
    ).json()
    other = await make_store(api, "Other")

    for method, path in [
        ("GET", f"/v1/webhook-endpoints/{endpoint['id']}"),
        ("DELETE", f"/v1/webhook-endpoints/{endpoint['id']}"),
        ("POST", f"/v1/webhook-endpoints/{endpoint['id']}/test"),
        ("GET", f"/v1/webhook-deliveries/{delivery['id']}"),
    ]:
        response = await api.request(method, path, headers=other.auth())
        assert response.status_code == 404, (method, path)
    assert (await api.get("/v1/webhook-deliveries", headers=other.auth())).json()["items"] == []
    still = await api.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=store.auth())
    assert still.status_code == 200


@pytest.fixture(scope="module")
async def production_api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app as production runs it (on the test database)."""
    strong = {name: secrets.token_hex(32) for name in PRODUCTION_SECRETS}
    production = Settings.model_validate(
        {
            "environment": "production",
            "database_url": settings.database_url,
            "public_rate_limit": 0,
            "key_rate_limit": 0,
            **strong,
        }
    )
    app = create_app(production)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.216.34/hook",
        "https://10.0.0.5/hook",
        "https://127.0.0.1:8443/hook",
        "https://[::ffff:169.254.169.254]/latest/meta-data",
        "https://localhost/hook",
    ],
)
async def test_production_refuses_plain_http_and_private_addresses(
    production_api: httpx.AsyncClient, store: StoreKeys, url: str
) -> None:
    response = await create(production_api, store, url=url)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"] == "url"


async def test_production_takes_https_to_a_public_address(
    production_api: httpx.AsyncClient, store: StoreKeys
) -> None:
    response = await create(production_api, store, url="https://93.184.216.34/hook")
    assert response.status_code == 201, response.text
