"""Stores and keys: the operator token provisions, keys are shown once and can be revoked."""

import asyncio
from datetime import UTC, datetime

import httpx
from sqlalchemy import update
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from config import Settings
from models import ApiKey
from models.database import SessionMaker
from tests.conftest import OPERATOR, StoreKeys, make_store

OPERATOR_AUTH = {"Authorization": f"Bearer {OPERATOR}"}


async def test_store_creation_needs_the_operator_token(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    body = {"name": "S", "currency": "USD", "timezone": "UTC"}
    assert (await api.post("/v1/stores", json=body)).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert (await api.post("/v1/stores", json=body, headers=wrong)).status_code == 401
    as_store = await api.post("/v1/stores", json=body, headers=store.auth())
    assert as_store.status_code == 401


async def test_store_creation_validates_its_input(api: httpx.AsyncClient) -> None:
    bad_zone = {"name": "S", "currency": "USD", "timezone": "Mars/Olympus"}
    response = await api.post("/v1/stores", json=bad_zone, headers=OPERATOR_AUTH)
    assert response.status_code == 422
    assert response.json()["error"]["details"] == {"field": "timezone"}
    bad_currency = {"name": "S", "currency": "dollars", "timezone": "UTC"}
    response = await api.post("/v1/stores", json=bad_currency, headers=OPERATOR_AUTH)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "currency"


async def test_keys_are_issued_and_revoked(api: httpx.AsyncClient, store: StoreKeys) -> None:
    issued = await api.post(
        f"/v1/stores/{store.id}/keys", json={"kind": "secret"}, headers=OPERATOR_AUTH
    )
    assert issued.status_code == 201
    key = issued.json()
    assert key["key"].startswith("sk_")
    headers = {"Authorization": f"Bearer {key['key']}"}
    assert (await api.get("/v1/flows", headers=headers)).status_code == 200
    revoked = await api.delete(f"/v1/stores/{store.id}/keys/{key['id']}", headers=OPERATOR_AUTH)
    assert revoked.status_code == 204
    response = await api.get("/v1/flows", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    again = await api.delete(f"/v1/stores/{store.id}/keys/{key['id']}", headers=OPERATOR_AUTH)
    assert again.status_code == 404


async def test_another_stores_key_cannot_be_revoked_through_this_store(
    api: httpx.AsyncClient,
) -> None:
    a, b = await make_store(api, "A"), await make_store(api, "B")
    issued = (await api.post(f"/v1/stores/{b.id}/keys", json={}, headers=OPERATOR_AUTH)).json()
    response = await api.delete(f"/v1/stores/{a.id}/keys/{issued['id']}", headers=OPERATOR_AUTH)
    assert response.status_code == 404
    headers = {"Authorization": f"Bearer {issued['key']}"}
    assert (await api.get("/v1/flows", headers=headers)).status_code == 200


async def test_keys_for_an_unknown_store_are_404(api: httpx.AsyncClient) -> None:
    response = await api.post("/v1/stores/st_nope/keys", json={}, headers=OPERATOR_AUTH)
    assert response.status_code == 404


async def test_missing_or_unknown_key_is_401_in_the_envelope(api: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer sk_unknown"}):
        response = await api.get("/v1/messages", headers=headers)
        assert response.status_code == 401
        assert set(response.json()["error"]) == {"code", "message", "details"}


async def test_health_needs_no_key(api: httpx.AsyncClient) -> None:
    assert (await api.get("/healthz")).json() == {"status": "ok"}
    ready = await api.get("/readyz")
    # The test app points at an address where no Temporal listens.
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "database": "ok", "temporal": "unreachable"}


async def test_ready_when_database_and_temporal_answer(
    settings: Settings, temporal_env: WorkflowEnvironment
) -> None:
    address = temporal_env.client.service_client.config.target_host
    app = create_app(settings.model_copy(update={"temporal_address": address}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "temporal": "ok"}


async def test_a_key_revoked_through_another_replica_is_refused_within_the_cache_time(
    settings: Settings, sessionmaker: SessionMaker
) -> None:
    """Each replica trusts a key it looked up for `api_key_cache_seconds` (at most a second):
    a revocation it did not make itself is refused once that time is up."""
    app = create_app(settings.model_copy(update={"api_key_cache_seconds": 0.2}))
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as api,
    ):
        store = await make_store(api, "Cached key")
        assert (await api.get("/v1/flows", headers=store.auth())).status_code == 200
        async with sessionmaker.begin() as session:  # as another replica's revoke does
            await session.execute(
                update(ApiKey)
                .where(ApiKey.store_id == store.id, ApiKey.kind == "secret")
                .values(revoked_at=datetime.now(UTC))
            )
        await asyncio.sleep(0.25)
        response = await api.get("/v1/flows", headers=store.auth())
        assert response.status_code == 401
        assert (await api.get("/v1/flows", headers=store.auth("publishable"))).status_code != 401
