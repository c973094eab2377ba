"""Webhook deliveries end to end: emitted in a transaction, handed to Temporal by the outbox,
POSTed to a real local receiver, signed, retried with backoff, and `failed` after 24 h (time
skipping). The secret is never logged."""

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from werkzeug import Request, Response

from activities.webhook_delivery import DeliveryAttempt, WebhookActivities
from config import Settings
from devstack.temporal import free_port
from models.database import SessionMaker
from services.growth.webhooks import WebhookEvent, emit
from temporal_payloads import data_converter
from tests.conftest import StoreKeys
from tests.temporal_runs import result_of
from webhook_outbox import WebhookOutbox, workflow_id


@dataclass
class Receiver:
    """A platform's webhook receiver: answers each POST with the next status of `answers`
    (the last one repeats), and keeps what it got."""

    answers: list[int]
    got: list[tuple[dict[str, str], str]] = field(default_factory=list)

    def __call__(self, request: Request) -> Response:
        self.got.append((dict(request.headers), request.get_data(as_text=True)))
        status = self.answers[min(len(self.got), len(self.answers)) - 1]
        return Response("ok" if status < 300 else "try later", status=status)


def receiving(httpserver: HTTPServer, answers: list[int]) -> Receiver:
    receiver = Receiver(answers)
    httpserver.expect_request("/hook", method="POST").respond_with_handler(receiver)
    return receiver


def verified(secret: str, headers: dict[str, str], body: str) -> bool:
    """What a receiver does (docs/webhooks.md)."""
    parts = dict(p.split("=", 1) for p in headers["Shopstar-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.{body}".encode(), hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), parts["v1"])


async def endpoint(
    api: httpx.AsyncClient, store: StoreKeys, url: str, events: list[str]
) -> dict[str, Any]:
    response = await api.post(
        "/v1/webhook-endpoints", json={"url": url, "events": events}, headers=store.auth()
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def deliver(
    temporal_env: WorkflowEnvironment,
    sessionmaker: SessionMaker,
    worker: Worker,
    store_id: str,
    delivery_id: str,
) -> str:
    """The worker's outbox round, then the run's end (time skips over its timers)."""
    outbox = WebhookOutbox(
        sessionmaker, temporal_env.client, task_queue=worker.task_queue, stores=[store_id]
    )
    await outbox.dispatch_once()
    handle = temporal_env.client.get_workflow_handle(workflow_id(store_id, delivery_id))
    async with temporal_env.time_skipping_unlocked():  # type: ignore[attr-defined]
        result: str = await result_of(handle)
    return result


async def deliveries(api: httpx.AsyncClient, store: StoreKeys) -> list[dict[str, Any]]:
    response = await api.get("/v1/webhook-deliveries", headers=store.auth())
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_failing_receiver_gets_the_same_signed_delivery_until_it_answers_2xx(
    api: httpx.AsyncClient,
    store: StoreKeys,
    sessionmaker: SessionMaker,
    settings: Settings,
    temporal_env: WorkflowEnvironment,
    worker: Worker,
    httpserver: HTTPServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    receiver = receiving(httpserver, [500, 500, 200])
    hook = await endpoint(api, store, httpserver.url_for("/hook"), ["deal.activated"])
    await endpoint(api, store, httpserver.url_for("/other"), ["payout.created"])
    async with sessionmaker.begin() as session:
        emitted = await emit(session, store.id, WebhookEvent.DEAL_ACTIVATED, {"deal_id": "d1"})
    assert len(emitted) == 1  # only the endpoint subscribed to it
    delivery_id = emitted[0].id

    assert await deliver(temporal_env, sessionmaker, worker, store.id, delivery_id) == "delivered"

    assert len(receiver.got) == 3
    bodies = {body for _, body in receiver.got}
    assert len(bodies) == 1  # the exact same bytes every time
    payload = json.loads(bodies.pop())
    assert (payload["id"], payload["type"], payload["data"]) == (
        delivery_id,
        "deal.activated",
        {"deal_id": "d1"},
    )
    for headers, body in receiver.got:
        assert headers["Shopstar-Delivery-Id"] == delivery_id
        assert verified(hook["secret"], headers, body)
        assert not verified("whsec_wrong", headers, body)
    (listed,) = await deliveries(api, store)
    assert (listed["id"], listed["status"], listed["attempts"]) == (delivery_id, "delivered", 3)
    assert (listed["last_status_code"], listed["next_attempt_at"]) == (200, None)
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert delivery_id in logged and hook["secret"] not in logged


async def test_a_receiver_that_never_answers_2xx_fails_the_delivery_after_24_hours(
    api: httpx.AsyncClient,
    store: StoreKeys,
    sessionmaker: SessionMaker,
    settings: Settings,
    temporal_env: WorkflowEnvironment,
    worker: Worker,
    httpserver: HTTPServer,
) -> None:
    receiver = receiving(httpserver, [503])
    hook = await endpoint(api, store, httpserver.url_for("/hook"), ["deal.failed"])
    ping = await api.post(f"/v1/webhook-endpoints/{hook['id']}/test", headers=store.auth())
    delivery_id = ping.json()["id"]

    assert await deliver(temporal_env, sessionmaker, worker, store.id, delivery_id) == "failed"

    (listed,) = await deliveries(api, store)
    assert (listed["status"], listed["last_status_code"], listed["last_error"]) == (
        "failed",
        503,
        "HTTP 503",
    )
    assert listed["attempts"] == len(receiver.got) > 20  # backoff: 10 s doubling to hourly
    assert listed["next_attempt_at"] is None
    first, last = receiver.got[0][0], receiver.got[-1][0]
    span = int(last["Shopstar-Signature"][2:12]) - int(first["Shopstar-Signature"][2:12])
    assert span >= 0  # wall-clock stamps; the skipped day is Temporal's, not the receiver's


async def test_a_name_resolving_to_a_local_address_is_refused_at_delivery_in_production(
    api: httpx.AsyncClient,
    store: StoreKeys,
    sessionmaker: SessionMaker,
    settings: Settings,
    httpserver: HTTPServer,
) -> None:
    """Saved when the rule allowed it (or DNS answered a public address then): the delivery
    resolves the name again and connects only to an address it checked."""
    receiver = receiving(httpserver, [200])
    url = httpserver.url_for("/hook").replace("127.0.0.1", "localhost")
    hook = await endpoint(api, store, url, ["deal.activated"])
    async with sessionmaker.begin() as session:
        (delivery,) = await emit(session, store.id, WebhookEvent.DEAL_ACTIVATED, {})
    production = WebhookActivities(
        sessionmaker, secret_key=settings.webhook_secret_key, local_allowed=False, timeout=5
    )

    outcome = await production.attempt_webhook_delivery(
        DeliveryAttempt(store.id, delivery.id, retry_at=None)
    )

    assert outcome.status == "failed" and receiver.got == []
    (listed,) = await deliveries(api, store)
    assert "may not reach" in listed["last_error"] and hook["id"] == listed["endpoint_id"]


async def test_an_event_emitted_while_temporal_refuses_waits_and_goes_out_later(
    api: httpx.AsyncClient,
    store: StoreKeys,
    sessionmaker: SessionMaker,
    settings: Settings,
    temporal_env: WorkflowEnvironment,
    worker: Worker,
    httpserver: HTTPServer,
) -> None:
    receiver = receiving(httpserver, [204])
    await endpoint(api, store, httpserver.url_for("/hook"), ["payout.created"])
    async with sessionmaker.begin() as session:
        (delivery,) = await emit(session, store.id, WebhookEvent.PAYOUT_CREATED, {"payout_id": "p"})
    # A port where no Temporal listens: every start fails.
    down = await Client.connect(
        f"127.0.0.1:{free_port()}", data_converter=data_converter, lazy=True
    )

    await WebhookOutbox(
        sessionmaker, down, task_queue=worker.task_queue, stores=[store.id]
    ).dispatch_once()

    (listed,) = await deliveries(api, store)
    assert (listed["status"], listed["attempts"], receiver.got) == ("pending", 0, [])
    assert await deliver(temporal_env, sessionmaker, worker, store.id, delivery.id) == "delivered"
    assert len(receiver.got) == 1
