"""Every number and text of a flow is bounded, and its templates are rendered against sample
data when it is saved: a flow that would fail (or stall) every send is a 422 naming the field."""

from typing import Any

import httpx

from tests.conftest import StoreKeys
from tests.workflows.journey import TWO_STEP_FLOW

# Passes every check of the sandbox, but runs for minutes: only the time limit stops it.
SLOW = "{% for a in 'x' * 1000 %}{% for b in 'x' * 1000 %}{% for c in 'x' * 1000 %}" + (
    "{% endfor %}{% endfor %}{% endfor %}"
)


def with_step(**template: Any) -> dict[str, Any]:
    step = {"delay_seconds": 0, "channel": "sms", "template": {"body": "hi", **template}}
    return {**TWO_STEP_FLOW, "steps": [step]}


async def put(api: httpx.AsyncClient, store: StoreKeys, body: dict[str, Any]) -> httpx.Response:
    return await api.put("/v1/flows/abandoned_cart", json=body, headers=store.auth())


async def test_numbers_and_sizes_out_of_bounds_name_the_field(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    suppression = {"similar_message_window_seconds": 10**11, "recent_order_window_seconds": 0}
    cases = [
        (
            {**TWO_STEP_FLOW, "suppression": suppression},
            "suppression.similar_message_window_seconds",
        ),
        (with_step(body="x" * 10_001), "steps.0.template.body"),
        (with_step(variables={f"v{i}": "x" for i in range(21)}), "steps.0.template.variables"),
        (with_step(variables={"v": "x" * 1_001}), "steps.0.template.variables.v"),
    ]
    for body, field in cases:
        response = await put(api, store, body)
        assert response.status_code == 422, (field, response.text)
        assert field in [d["field"] for d in response.json()["error"]["details"]], response.text
    # Ten steps of 9,000 characters each: every field fits, the whole flow does not.
    big = {**TWO_STEP_FLOW, "steps": [with_step(body="x" * 9_000)["steps"][0]] * 10}
    response = await put(api, store, big)
    assert response.status_code == 422
    assert "at most 65536" in response.text


async def test_templates_that_cannot_render_are_refused_when_saved(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    cases = [
        (with_step(body="{{ 1/0 }}"), "steps.0.template.body", "ZeroDivisionError"),
        (with_step(body="{{ 'x' * 10**10 }}"), "steps.0.template.body", "repetition"),
        (
            with_step(body="{% for i in range(100000) %}{% for j in range(100000) %}"),
            "steps.0.template.body",
            "does not parse",
        ),
        (
            with_step(
                body="{% for i in range(100000) %}{% for j in range(100000) %}"
                "{% endfor %}{% endfor %}"
            ),
            "steps.0.template.body",
            "range()",
        ),
        (with_step(variables={"1": "{{ cart.nope.x }}"}), "steps.0.template.variables.1", "nope"),
        (with_step(body=SLOW), "steps.0.template.body", "took longer than"),
    ]
    for body, field, words in cases:
        response = await put(api, store, body)
        assert response.status_code == 422, (field, response.text)
        (detail,) = response.json()["error"]["details"]
        assert detail["field"] == field and words in detail["message"], detail
    # The engine still renders for everyone after the slow one was stopped.
    response = await put(api, store, with_step(body="Hi {{ customer.first_name }}"))
    assert response.status_code == 200, response.text
