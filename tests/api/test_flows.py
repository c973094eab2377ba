"""Flows: versioned configuration with validation that explains itself."""

import httpx

from tests.conftest import StoreKeys
from tests.workflows.journey import TWO_STEP_FLOW


async def test_put_creates_versions_and_get_returns_the_newest(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    default = (await api.get("/v1/flows/abandoned_cart", headers=store.auth())).json()
    assert default["version"] == 0 and default["enabled"] is False
    first = await api.put("/v1/flows/abandoned_cart", json=TWO_STEP_FLOW, headers=store.auth())
    second = await api.put(
        "/v1/flows/abandoned_cart",
        json={**TWO_STEP_FLOW, "trigger_delay_seconds": 900},
        headers=store.auth(),
    )
    assert (first.json()["version"], second.json()["version"]) == (1, 2)
    current = (await api.get("/v1/flows/abandoned_cart", headers=store.auth())).json()
    assert current["version"] == 2 and current["trigger_delay_seconds"] == 900
    assert current["suppression"] == TWO_STEP_FLOW["suppression"]
    kinds = [f["kind"] for f in (await api.get("/v1/flows", headers=store.auth())).json()["items"]]
    assert kinds == ["abandoned_cart", "browse_reminder", "return_purchase"]


async def test_unknown_flow_kind_is_404(api: httpx.AsyncClient, store: StoreKeys) -> None:
    response = await api.get("/v1/flows/winback", headers=store.auth())
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_invalid_flows_are_rejected_with_the_field(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    cases = [
        ({**TWO_STEP_FLOW, "trigger_delay_seconds": -1}, "trigger_delay_seconds"),
        (
            {
                **TWO_STEP_FLOW,
                "steps": [
                    {"delay_seconds": 0, "channel": "email", "template": {"body": "no subject"}}
                ],
            },
            "steps.0",
        ),
        (
            {
                **TWO_STEP_FLOW,
                "steps": [{"delay_seconds": 0, "channel": "fax", "template": {"body": "x"}}],
            },
            "steps.0.channel",
        ),
        ({**TWO_STEP_FLOW, "quiet_hours": {"start": "25:00", "end": "08:00"}}, "quiet_hours.start"),
        ({"enabled": True, "steps": []}, ""),
        ({**TWO_STEP_FLOW, "colour": "red"}, "colour"),
    ]
    for body, field in cases:
        response = await api.put("/v1/flows/abandoned_cart", json=body, headers=store.auth())
        assert response.status_code == 422, body
        fields = [d["field"] for d in response.json()["error"]["details"]]
        assert any(f.startswith(field) for f in fields), (field, fields)
    current = (await api.get("/v1/flows/abandoned_cart", headers=store.auth())).json()
    assert current["version"] == 0


async def test_a_template_that_does_not_parse_is_rejected(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    broken = {
        **TWO_STEP_FLOW,
        "steps": [
            {
                "delay_seconds": 0,
                "channel": "sms",
                "template": {"body": "Hi {{ customer.first_name "},
            }
        ],
    }
    response = await api.put("/v1/flows/abandoned_cart", json=broken, headers=store.auth())
    assert response.status_code == 422
    assert "template" in response.json()["error"]["message"]
