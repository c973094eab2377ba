"""Provider webhooks: the signature is the authentication (a bad or missing one is a 401 and
changes nothing); statuses only move forward; opt-outs reach consent; replays change nothing."""

import base64
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from twilio.request_validator import RequestValidator

from api.main import create_app
from config import Settings
from models import Customer
from models.database import SessionMaker
from tests.conftest import StoreKeys, make_store
from tests.integrations.rows import add_customer, add_message, customer_row, message_row

PUBLIC = "https://engine.example"
TOKEN = "twilio-auth-token"
SIGNING_KEY = ec.generate_private_key(ec.SECP256R1())
PUBLIC_KEY = base64.b64encode(
    SIGNING_KEY.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
).decode()


@pytest.fixture(scope="module")
async def hooks(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The api as deployed behind https://engine.example, with both providers' secrets."""
    configured = settings.model_copy(
        update={
            "public_base_url": PUBLIC + "/",
            "twilio_auth_token": TOKEN,
            "sendgrid_webhook_public_key": PUBLIC_KEY,
        }
    )
    app = create_app(configured)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api:8000") as client:
            yield client


async def twilio_post(
    client: httpx.AsyncClient, path: str, form: dict[str, str], *, signed_url: str | None = None
) -> httpx.Response:
    signature = RequestValidator(TOKEN).compute_signature(signed_url or PUBLIC + path, form)
    return await client.post(
        path,
        content=urlencode(form),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        },
    )


def now_stamp(offset: int = 0) -> str:
    return str(int(time.time()) + offset)


def sendgrid_headers(body: bytes, timestamp: str | None = None) -> dict[str, str]:
    timestamp = timestamp or now_stamp()
    signature = SIGNING_KEY.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        "Content-Type": "application/json",
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
    }


def sid() -> str:
    return f"SM{uuid.uuid4().hex}"


async def status_of(sessionmaker: SessionMaker, message_id: str) -> str:
    return (await message_row(sessionmaker, message_id)).status


async def test_twilio_statuses_only_move_forward(
    hooks: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    message_id = await add_message(sessionmaker, store.id, provider_message_id="SM1")
    path = f"/v1/webhooks/twilio/{store.id}/status"
    for twilio_status, expected in [
        ("delivered", "delivered"),
        ("sent", "delivered"),  # late and out of order
        ("failed", "delivered"),  # never overwrites a delivery
    ]:
        form = {"MessageSid": "SM1", "MessageStatus": twilio_status, "AccountSid": "AC1"}
        response = await twilio_post(hooks, path, form)
        assert response.status_code == 204, response.text
        assert await status_of(sessionmaker, message_id) == expected

    failing = await add_message(sessionmaker, store.id, provider_message_id="SM2")
    form = {"MessageSid": "SM2", "MessageStatus": "undelivered", "ErrorCode": "30003"}
    assert (await twilio_post(hooks, path, form)).status_code == 204
    row = await message_row(sessionmaker, failing)
    assert (row.status, row.failure_code) == ("failed", "30003")


async def test_a_status_callback_reaches_only_its_own_store(
    hooks: httpx.AsyncClient, api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    other = await make_store(api, "Other")
    message_id = await add_message(sessionmaker, store.id, provider_message_id="SM3")
    form = {"MessageSid": "SM3", "MessageStatus": "delivered"}
    response = await twilio_post(hooks, f"/v1/webhooks/twilio/{other.id}/status", form)
    assert response.status_code == 204
    assert await status_of(sessionmaker, message_id) == "sent"
    response = await twilio_post(hooks, "/v1/webhooks/twilio/st_nope/status", form)
    assert response.status_code == 404


async def test_a_bad_or_missing_twilio_signature_is_401_and_changes_nothing(
    hooks: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    message_id = await add_message(sessionmaker, store.id, provider_message_id="SM4")
    path = f"/v1/webhooks/twilio/{store.id}/status"
    form = {"MessageSid": "SM4", "MessageStatus": "delivered"}
    attempts = [
        hooks.post(path, data=form),  # no signature at all
        twilio_post(hooks, path, form, signed_url="http://api:8000" + path),  # not the public URL
        hooks.post(path, data=form, headers={"X-Twilio-Signature": "bm9wZQ=="}),
    ]
    for attempt in attempts:
        response = await attempt
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
    assert await status_of(sessionmaker, message_id) == "sent"


async def test_stop_and_start_replies_change_the_channel_consent(
    hooks: httpx.AsyncClient, api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    other = await make_store(api, "Other")
    await add_customer(sessionmaker, store.id, phone="+1 415-555-0123")
    await add_customer(sessionmaker, other.id)
    path = f"/v1/webhooks/twilio/{store.id}/inbound"

    async def reply(sender: str, body: str) -> None:
        form = {"MessageSid": sid(), "From": sender, "Body": body, "To": "+1555"}
        response = await twilio_post(hooks, path, form)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/xml")
        assert response.text.endswith("<Response/>")

    await reply("+14155550123", "  stop ")
    customer = await customer_row(sessionmaker, store.id)
    assert (customer.consent_sms, customer.consent_whatsapp) == (False, True)
    assert (await customer_row(sessionmaker, other.id)).consent_sms  # another store's shopper
    await reply("whatsapp:+14155550123", "OptOut")
    assert not (await customer_row(sessionmaker, store.id)).consent_whatsapp
    await reply("+14155550123", "Stop sending me the blue one")  # not a keyword
    assert not (await customer_row(sessionmaker, store.id)).consent_sms
    await reply("+14155550123", "START")
    customer = await customer_row(sessionmaker, store.id)
    assert (customer.consent_sms, customer.consent_whatsapp) == (True, False)

    forged = await hooks.post(path, data={"From": "+14155550123", "Body": "STOP"})
    assert forged.status_code == 401
    assert (await customer_row(sessionmaker, store.id)).consent_sms


def sendgrid_event(message_id: str, kind: str, event_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "email": "ana@example.com",
        "timestamp": 1764000000,
        "event": kind,
        "sg_event_id": event_id,
        "sg_message_id": "sg-abc.filter",
        "shopstar_message_id": message_id,
        **extra,
    }


async def test_sendgrid_events_set_statuses_and_email_consent_once(
    hooks: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    await add_customer(sessionmaker, store.id)
    delivered, bounced, dropped = [
        await add_message(sessionmaker, store.id, channel="email") for _ in range(3)
    ]
    path = f"/v1/webhooks/sendgrid/{store.id}/events"
    events = [
        sendgrid_event(delivered, "processed", "e0"),
        sendgrid_event(delivered, "delivered", "e1"),
        sendgrid_event(bounced, "bounce", "e2", type="bounce", reason="550 no such user"),
        sendgrid_event(dropped, "dropped", "e3", reason="Unsubscribed Address"),
        sendgrid_event("msg_not_ours", "delivered", "e4"),
    ]
    body = json.dumps(events).encode()
    response = await hooks.post(path, content=body, headers=sendgrid_headers(body))
    assert response.status_code == 200, response.text
    assert response.json() == {"applied": 4, "duplicates": 0, "ignored": 1}
    assert await status_of(sessionmaker, delivered) == "delivered"
    bounce = await message_row(sessionmaker, bounced)
    assert (bounce.status, bounce.failure_code) == ("failed", "bounce")
    assert await status_of(sessionmaker, dropped) == "failed"
    assert not (await customer_row(sessionmaker, store.id)).consent_email

    # The shopper subscribes again on the storefront; a replay of old events must not undo it.
    await add_customer(sessionmaker, store.id, "c_2")
    spam = await add_message(sessionmaker, store.id, channel="email", customer_id="c_2")
    body = json.dumps([sendgrid_event(spam, "spamreport", "e5")]).encode()
    assert (await hooks.post(path, content=body, headers=sendgrid_headers(body))).is_success
    assert not (await customer_row(sessionmaker, store.id, "c_2")).consent_email
    async with sessionmaker.begin() as session:
        customer = await session.get(Customer, (store.id, "c_2"))
        assert customer is not None
        customer.consent_email = True
    response = await hooks.post(path, content=body, headers=sendgrid_headers(body, now_stamp(1)))
    assert response.json() == {"applied": 0, "duplicates": 1, "ignored": 0}
    assert (await customer_row(sessionmaker, store.id, "c_2")).consent_email


async def test_a_bad_or_missing_sendgrid_signature_is_401_and_changes_nothing(
    hooks: httpx.AsyncClient, api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    message_id = await add_message(sessionmaker, store.id, channel="email")
    path = f"/v1/webhooks/sendgrid/{store.id}/events"
    body = json.dumps([sendgrid_event(message_id, "delivered", "e-bad")]).encode()
    tampered = body.replace(b"delivered", b"bounce\x20\x20\x20")
    other_key = ec.generate_private_key(ec.SECP256R1())
    forged = other_key.sign(now_stamp().encode() + body, ec.ECDSA(hashes.SHA256()))
    for content, headers in [
        (body, {"Content-Type": "application/json"}),
        (tampered, sendgrid_headers(body)),
        # The timestamp is signed too.
        (body, {**sendgrid_headers(body), "X-Twilio-Email-Event-Webhook-Timestamp": "1"}),
        (body, {**sendgrid_headers(body), "X-Twilio-Email-Event-Webhook-Signature": "!!"}),
        (
            body,
            {
                **sendgrid_headers(body),
                "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(forged).decode(),
            },
        ),
    ]:
        response = await hooks.post(path, content=content, headers=headers)
        assert response.status_code == 401, response.text
        assert set(response.json()["error"]) == {"code", "message", "details"}
    # The shared test app has no verification key: it refuses every event.
    unconfigured = await api.post(path, content=body, headers=sendgrid_headers(body))
    assert unconfigured.status_code == 401
    assert await status_of(sessionmaker, message_id) == "sent"
    # The event was not recorded as seen: the genuine delivery still applies.
    response = await hooks.post(path, content=body, headers=sendgrid_headers(body))
    assert response.json()["applied"] == 1


async def test_the_shared_sendgrid_webhook_routes_events_by_their_store(
    hooks: httpx.AsyncClient, api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    other = await make_store(api, "Other")
    mine = await add_message(sessionmaker, store.id, channel="email")
    theirs = await add_message(sessionmaker, other.id, channel="email")
    events = [
        sendgrid_event(mine, "delivered", "s1", shopstar_store_id=store.id),
        sendgrid_event(theirs, "bounce", "s2", shopstar_store_id=other.id),
        sendgrid_event(theirs, "delivered", "s3", shopstar_store_id=store.id),  # not its store
        sendgrid_event(mine, "delivered", "s4"),  # names no store
    ]
    body = json.dumps(events).encode()
    response = await hooks.post(
        "/v1/webhooks/sendgrid/events", content=body, headers=sendgrid_headers(body)
    )
    assert response.json() == {"applied": 2, "duplicates": 0, "ignored": 2}
    assert await status_of(sessionmaker, mine) == "delivered"
    assert await status_of(sessionmaker, theirs) == "failed"


async def test_stop_to_the_shared_number_holds_in_every_store(
    hooks: httpx.AsyncClient, api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    other = await make_store(api, "Other")
    for store_id in (store.id, other.id):
        await add_customer(sessionmaker, store_id, phone="+14155550199")
    form = {"MessageSid": sid(), "From": "+14155550199", "Body": "STOP", "To": "+15550001111"}
    assert (await twilio_post(hooks, "/v1/webhooks/twilio/inbound", form)).status_code == 200
    for store_id in (store.id, other.id):
        assert not (await customer_row(sessionmaker, store_id)).consent_sms
    forged = await hooks.post("/v1/webhooks/twilio/inbound", data={**form, "Body": "START"})
    assert forged.status_code == 401


async def test_a_stale_or_future_sendgrid_batch_is_refused_and_changes_nothing(
    hooks: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    message_id = await add_message(sessionmaker, store.id, channel="email")
    path = f"/v1/webhooks/sendgrid/{store.id}/events"
    body = json.dumps([sendgrid_event(message_id, "delivered", f"e-{uuid.uuid4().hex}")]).encode()
    for offset in (-301, -3600, 301):  # validly signed, but captured earlier or clock games
        response = await hooks.post(
            path, content=body, headers=sendgrid_headers(body, now_stamp(offset))
        )
        assert response.status_code == 401, response.text
        error = response.json()["error"]
        assert error["code"] == "stale_webhook"
        assert set(error) == {"code", "message", "details"}
        assert await status_of(sessionmaker, message_id) == "sent"
    # Nothing was recorded as seen: the same events, signed now, apply.
    response = await hooks.post(path, content=body, headers=sendgrid_headers(body, now_stamp(-5)))
    assert response.json()["applied"] == 1
    assert await status_of(sessionmaker, message_id) == "delivered"


@pytest.mark.parametrize("shared", [False, True])
async def test_a_replayed_start_does_not_subscribe_a_number_that_sent_stop(
    hooks: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker, shared: bool
) -> None:
    phone = f"+1415{uuid.uuid4().int % 10**7:07d}"
    await add_customer(sessionmaker, store.id, phone=phone)
    path = "/v1/webhooks/twilio/inbound" if shared else f"/v1/webhooks/twilio/{store.id}/inbound"
    stop, start, stop_again = (
        {"MessageSid": sid(), "From": phone, "Body": word, "To": "+15550001111"}
        for word in ("STOP", "START", "STOP")
    )
    for form in (stop, start, stop_again):
        assert (await twilio_post(hooks, path, form)).status_code == 200
    assert not (await customer_row(sessionmaker, store.id)).consent_sms

    # The captured START, signed by Twilio, sent again: acknowledged, and nothing changes.
    replayed = await twilio_post(hooks, path, start)
    assert replayed.status_code == 200
    assert replayed.text.endswith("<Response/>")
    assert not (await customer_row(sessionmaker, store.id)).consent_sms
    # Without a MessageSid a message cannot be told from a replay: refused.
    unnamed = {k: v for k, v in start.items() if k != "MessageSid"}
    response = await twilio_post(hooks, path, unnamed)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "MessageSid"
    assert not (await customer_row(sessionmaker, store.id)).consent_sms
