"""Channel connections through the HTTP API, each checked against a local fake of its network
that answers as the network does (pytest-httpserver): credentials are checked when saved,
refused ones named in a 422, kept encrypted, shown masked, never logged."""

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from werkzeug import Request, Response

from api.main import create_app
from config import Settings
from integrations.ad_networks import tiktok_sign
from models import ChannelConnection, Customer
from models.database import SessionMaker
from services.channels.connections import ChannelKeys, Network, credentials
from tests.conftest import StoreKeys, event, make_store

TOKEN = "EAAB-meta-access-token-0042"
META = {"pixel_id": "1234567890", "ad_account_id": "998877", "access_token": TOKEN}
GOOGLE = {
    "customer_id": "123-456-7890",
    "conversion_action_id": "555",
    "developer_token": "dev-token-abcdef",
    "refresh_token": "1//refresh-token-xyz",
    "client_id": "client-id.apps.googleusercontent.com",
    "client_secret": "client-secret-qrst",
}
TIKTOK = {
    "app_key": "6abc",
    "shop_cipher": "ROW_cipher1",
    "app_secret": "right-app-secret",
    "access_token": "tts-access-token-9999",
}


@pytest.fixture
async def direct(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The api with no base-URL override: each connection goes to the fake it names."""
    app = create_app(settings.model_copy(update={"channel_base_url_override": None}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


def fake_meta(server: HTTPServer) -> None:
    def answer(request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            error = {"error": {"message": "Invalid OAuth access token.", "code": 190}}
            return Response(json.dumps(error), 400, content_type="application/json")
        body = {"id": "act_998877", "name": "Shop Ads"}
        return Response(json.dumps(body), 200, content_type="application/json")

    server.expect_request("/v21.0/act_998877", method="GET").respond_with_handler(answer)


async def put(
    api: httpx.AsyncClient, store: StoreKeys, network: str, body: dict[str, Any]
) -> httpx.Response:
    return await api.put(f"/v1/channels/{network}", json=body, headers=store.auth())


async def test_a_meta_connection_is_checked_kept_encrypted_and_shown_masked(
    direct: httpx.AsyncClient,
    store: StoreKeys,
    httpserver: HTTPServer,
    sessionmaker: SessionMaker,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_meta(httpserver)
    saved = await put(direct, store, "meta", {**META, "api_base_url": httpserver.url_for("")})
    assert saved.status_code == 200, saved.text
    shown = saved.json()
    assert (shown["state"], shown["account_name"]) == ("connected", "Shop Ads")
    assert shown["ids"] == {"pixel_id": "1234567890", "ad_account_id": "998877"}
    assert shown["credentials"] == {"access_token": "••••0042"}
    assert TOKEN not in saved.text

    listed = (await direct.get("/v1/channels", headers=store.auth())).json()["items"]
    states = {c["network"]: c["state"] for c in listed}
    assert states == {
        "google_ads": "not_connected",
        "meta": "connected",
        "merchant_center": "not_connected",
        "tiktok_shop": "not_connected",
    }
    assert TOKEN not in caplog.text
    async with sessionmaker() as session:
        row = await session.scalar(
            select(ChannelConnection).where(ChannelConnection.store_id == store.id)
        )
        assert row is not None and TOKEN.encode() not in row.secrets_encrypted
        keys = ChannelKeys(settings.channel_secret_key, local_allowed=True)
        found = await credentials(session, store.id, Network.META, keys)
    assert found is not None and found.secrets == {"access_token": TOKEN}


async def test_a_refused_credential_is_a_422_naming_it_and_nothing_is_saved(
    direct: httpx.AsyncClient, store: StoreKeys, httpserver: HTTPServer
) -> None:
    fake_meta(httpserver)
    base = httpserver.url_for("")
    refused = await put(
        direct, store, "meta", {**META, "access_token": "expired", "api_base_url": base}
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["details"][0]["field"] == "access_token"
    listed = (await direct.get("/v1/channels", headers=store.auth())).json()["items"]
    assert {c["state"] for c in listed} == {"not_connected"}


async def test_google_ads_names_the_refresh_token_or_the_developer_token(
    direct: httpx.AsyncClient, store: StoreKeys, httpserver: HTTPServer
) -> None:
    def token(request: Request) -> Response:
        if request.form.get("refresh_token") != GOOGLE["refresh_token"]:
            return Response(
                json.dumps({"error": "invalid_grant"}), 400, content_type="application/json"
            )
        return Response(json.dumps({"access_token": "ya29.x", "expires_in": 3599}), 200)

    def customer(request: Request) -> Response:
        if request.headers.get("developer-token") != GOOGLE["developer_token"]:
            error = {
                "error": {
                    "code": 401,
                    "details": [
                        {
                            "errors": [
                                {
                                    "errorCode": {
                                        "authorizationError": "DEVELOPER_TOKEN_NOT_APPROVED"
                                    }
                                }
                            ]
                        }
                    ],
                }
            }
            return Response(json.dumps(error), 401, content_type="application/json")
        assert request.headers["Authorization"] == "Bearer ya29.x"
        return Response(json.dumps({"descriptiveName": "Tents Inc."}), 200)

    httpserver.expect_request("/oauth2/token", method="POST").respond_with_handler(token)
    httpserver.expect_request("/v18/customers/123-456-7890").respond_with_handler(customer)
    base = {"api_base_url": httpserver.url_for("")}

    bad_grant = await put(direct, store, "google_ads", {**GOOGLE, **base, "refresh_token": "old"})
    assert bad_grant.json()["error"]["details"][0]["field"] == "refresh_token"
    bad_dev = await put(direct, store, "google_ads", {**GOOGLE, **base, "developer_token": "nope"})
    assert bad_dev.json()["error"]["details"][0]["field"] == "developer_token"
    good = await put(direct, store, "google_ads", {**GOOGLE, **base})
    assert (good.status_code, good.json()["account_name"]) == (200, "Tents Inc.")


async def test_tiktok_shop_checks_the_signature_and_the_shop(
    direct: httpx.AsyncClient, store: StoreKeys, httpserver: HTTPServer
) -> None:
    def shops(request: Request) -> Response:
        params = dict(request.args)
        expected = tiktok_sign(TIKTOK["app_secret"], request.path, params)
        if params.get("sign") != expected:
            return Response(json.dumps({"code": 106001, "message": "Invalid sign"}), 200)
        data = {"shops": [{"cipher": "ROW_cipher1", "name": "Tent Shop"}]}
        return Response(json.dumps({"code": 0, "data": data}), 200)

    httpserver.expect_request("/authorization/202309/shops").respond_with_handler(shops)
    base = {"api_base_url": httpserver.url_for("")}

    wrong = await put(direct, store, "tiktok_shop", {**TIKTOK, **base, "app_secret": "wrong"})
    assert wrong.json()["error"]["details"][0]["field"] == "app_secret"
    other = await put(direct, store, "tiktok_shop", {**TIKTOK, **base, "shop_cipher": "ROW_x"})
    assert other.json()["error"]["details"][0]["field"] == "shop_cipher"
    good = await put(direct, store, "tiktok_shop", {**TIKTOK, **base})
    assert (good.status_code, good.json()["account_name"]) == (200, "Tent Shop")


async def test_a_network_that_cannot_be_asked_leaves_the_connection_unchecked(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    saved = await put(api, store, "meta", META)  # the tests' override: nothing listens there
    assert (saved.status_code, saved.json()["state"]) == (200, "unchecked")
    assert saved.json()["last_error"].startswith("not checked")
    assert (await api.delete("/v1/channels/meta", headers=store.auth())).status_code == 204
    again = await api.delete("/v1/channels/meta", headers=store.auth())
    assert again.status_code == 404


async def test_in_production_a_base_url_must_be_https_to_a_public_host(
    settings: Settings, store: StoreKeys
) -> None:
    production = settings.model_copy(update={"environment": "production"})
    app = create_app(production)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            for url in ("http://127.0.0.1:9", "https://10.0.0.8", "https://localhost"):
                refused = await put(client, store, "meta", {**META, "api_base_url": url})
                assert refused.status_code == 422, url
                assert refused.json()["error"]["details"][0]["field"] == "api_base_url"


async def test_bad_fields_are_a_422_naming_them(api: httpx.AsyncClient, store: StoreKeys) -> None:
    bad = await put(api, store, "google_ads", {**GOOGLE, "customer_id": "12-34"})
    assert bad.status_code == 422
    assert "customer_id" in json.dumps(bad.json()["error"]["details"])
    extra = await put(api, store, "meta", {**META, "password": "x"})
    assert extra.status_code == 422
    unknown = await api.put("/v1/channels/myspace", json={}, headers=store.auth())
    assert unknown.status_code in (404, 405)


async def test_a_store_sees_and_removes_only_its_own_connections(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    other = await make_store(api, "Other")
    await put(api, other, "meta", META)
    mine = (await api.get("/v1/channels", headers=store.auth())).json()["items"]
    assert {c["state"] for c in mine} == {"not_connected"}
    assert (await api.delete("/v1/channels/meta", headers=store.auth())).status_code == 404
    theirs = (await api.get("/v1/channels", headers=other.auth())).json()["items"]
    assert {c["network"]: c["state"] for c in theirs}["meta"] == "unchecked"


async def test_consent_to_ads_is_kept_per_customer(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    async def consent_ads() -> bool | None:
        async with sessionmaker() as session:
            return await session.scalar(
                select(Customer.consent_ads).where(
                    Customer.store_id == store.id, Customer.customer_id == "c_ads"
                )
            )

    given = {"customer_id": "c_ads", "email": "a@x.io", "consent": {"ads": True}}
    batch = {"events": [event("customer.upserted", given)]}
    assert (await api.post("/v1/events", json=batch, headers=store.auth())).status_code == 202
    assert await consent_ads() is True
    withdrawn = {"customer_id": "c_ads", "consent": {"ads": False}}
    batch = {"events": [event("customer.upserted", withdrawn)]}
    assert (await api.post("/v1/events", json=batch, headers=store.auth())).status_code == 202
    assert await consent_ads() is False
