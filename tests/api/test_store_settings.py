"""Store settings: the deployment's defaults until the store sets its own, validated field by
field, and every change kept with the key that made it."""

import httpx

from tests.api.shop import fields_of
from tests.conftest import OPERATOR, StoreKeys

MESSAGING_SERVICE = "MG" + "0123456789abcdef" * 2


async def settings(api: httpx.AsyncClient, store: StoreKeys) -> dict[str, object]:
    response = await api.get("/v1/settings", headers=store.auth())
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def test_a_new_store_has_the_deployments_defaults(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    body = await settings(api, store)
    assert body["storefront_base_url"] == "https://shop.test"  # SHOPSTAR_STOREFRONT_BASE_URL
    assert body["utm_source"] == "shopstar" and body["attribution_window_days"] == 5
    assert body["timezone"] == "America/New_York" and body["quiet_hours"] is None
    assert "storefront_base_url" in body["defaults"]  # type: ignore[operator]


async def test_patch_changes_the_fields_given_and_history_names_the_key(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    extra = await api.post(
        f"/v1/stores/{store.id}/keys",
        json={"kind": "secret"},
        headers={"Authorization": f"Bearer {OPERATOR}"},
    )
    assert extra.status_code == 201, extra.text
    staff_key = extra.json()
    patch = {
        "storefront_base_url": "https://www.ana-shop.example/",
        "email_from": {"address": "hello@ana-shop.example", "name": "Ana's Shop"},
        "sms_from": MESSAGING_SERVICE,
        "attribution_window_days": 7,
        "quiet_hours": {"start": "21:00", "end": "08:00"},
    }
    response = await api.patch(
        "/v1/settings", json=patch, headers={"Authorization": f"Bearer {staff_key['key']}"}
    )
    assert response.status_code == 200, response.text
    body = await settings(api, store)
    assert body["storefront_base_url"] == "https://www.ana-shop.example"
    assert body["email_from"] == {"address": "hello@ana-shop.example", "name": "Ana's Shop"}
    assert (body["sms_from"], body["attribution_window_days"]) == (MESSAGING_SERVICE, 7)
    assert body["quiet_hours"] == {"start": "21:00", "end": "08:00"}
    assert body["utm_source"] == "shopstar"  # not given: unchanged

    # Another PATCH that changes one field and repeats one: only the change is recorded.
    second = await api.patch(
        "/v1/settings",
        json={"utm_source": "newsletter", "attribution_window_days": 7, "timezone": "Europe/Paris"},
        headers=store.auth(),
    )
    assert second.status_code == 200, second.text
    # null: back to the deployment's default.
    third = await api.patch("/v1/settings", json={"quiet_hours": None}, headers=store.auth())
    assert third.json()["quiet_hours"] is None

    history = await api.get("/v1/settings/history", headers=store.auth())
    assert history.status_code == 200, history.text
    latest, middle, first = history.json()["items"]
    assert first["key_id"] == staff_key["id"]
    assert first["changes"]["attribution_window_days"] == {"from": 5, "to": 7}
    assert first["changes"]["storefront_base_url"] == {
        "from": "https://shop.test",
        "to": "https://www.ana-shop.example",
    }
    assert middle["key_id"] != staff_key["id"]
    assert set(middle["changes"]) == {"utm_source", "timezone"}
    assert latest["changes"] == {
        "quiet_hours": {"from": {"start": "21:00", "end": "08:00"}, "to": None}
    }


async def test_bad_settings_are_422_naming_the_field(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    cases = [
        ({"storefront_base_url": "shop.example.com"}, "storefront_base_url"),
        ({"storefront_base_url": "javascript:alert(1)"}, "storefront_base_url"),
        ({"email_from": {"address": "not-an-address"}}, "email_from.address"),
        ({"email_from": {"name": "No address"}}, "email_from.address"),
        ({"reply_to": "two@@example.com"}, "reply_to"),
        ({"sms_from": "555-0100"}, "sms_from"),
        ({"sms_from": "MG123"}, "sms_from"),
        ({"whatsapp_from": "whatsapp"}, "whatsapp_from"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": None}, "timezone"),
        ({"attribution_window_days": 0}, "attribution_window_days"),
        ({"attribution_window_days": 91}, "attribution_window_days"),
        ({"utm_source": "two words"}, "utm_source"),
        ({"quiet_hours": {"start": "25:00", "end": "08:00"}}, "quiet_hours.start"),
        ({"sender": "x"}, "sender"),
    ]
    for body, field in cases:
        response = await api.patch("/v1/settings", json=body, headers=store.auth())
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]["code"] == "invalid_input"
        assert field in fields_of(response), (body, response.json())
    assert (await api.get("/v1/settings/history", headers=store.auth())).json()["items"] == []


async def test_settings_need_the_secret_key(api: httpx.AsyncClient, store: StoreKeys) -> None:
    for method in ("GET", "PATCH"):
        response = await api.request(
            method, "/v1/settings", json={"utm_source": "x"}, headers=store.auth("publishable")
        )
        assert response.status_code == 403
