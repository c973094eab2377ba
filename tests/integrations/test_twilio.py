"""SMS and WhatsApp through the official Twilio SDK, against a local fake of the Messages API;
and a permanent refusal through the step activity: failed row, consent, no retry."""

import json
import ssl
from typing import Any

import pytest
import requests
from pytest_httpserver import HTTPServer
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.flow_steps import FlowActivities
from config import Settings
from flow_contract import FlowConfig, FlowKind, StepRequest
from integrations.messaging import OutgoingMessage, PermanentSendError, TransientSendError
from integrations.twilio_messaging import TwilioProvider
from models.database import SessionMaker
from tests.conftest import StoreKeys
from tests.integrations.rows import add_customer, customer_row, message_row
from worker import message_provider

ACCOUNT = "AC0123456789abcdef0123456789abcdef"
MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
CALLBACK = "https://engine.test/v1/webhooks/twilio/{store_id}/status"


def provider(server: HTTPServer) -> TwilioProvider:
    return TwilioProvider(
        ACCOUNT, "auth-token", "+15550001111", "+15550002222", CALLBACK, server.url_for("")
    )


def sms(**fields: Any) -> OutgoingMessage:
    values: dict[str, Any] = {
        "message_id": "msg_1",
        "channel": "sms",
        "to": "+14155550123",
        "subject": None,
        "body": "Your cart is waiting https://shop.test/cart/k_1",
        "store_id": "st_1",
    }
    return OutgoingMessage(**(values | fields))


def received_form(server: HTTPServer) -> dict[str, str]:
    ((request, _),) = server.log
    return dict(request.form)


async def test_an_sms_reaches_twilio_with_a_status_callback(provider_server: HTTPServer) -> None:
    provider_server.expect_oneshot_request(MESSAGES, method="POST").respond_with_json(
        {"sid": "SM111", "status": "queued"}, status=201
    )
    assert await provider(provider_server).send(sms()) == "SM111"
    ((request, _),) = provider_server.log
    assert request.authorization is not None
    assert request.authorization.username == ACCOUNT
    assert request.authorization.password == "auth-token"
    assert received_form(provider_server) == {
        "To": "+14155550123",
        "From": "+15550001111",
        "Body": "Your cart is waiting https://shop.test/cart/k_1",
        # Our message id rides along: a callback finds the message even without its SID.
        "StatusCallback": "https://engine.test/v1/webhooks/twilio/st_1/status?message_id=msg_1",
    }


async def test_whatsapp_goes_out_as_an_approved_template(provider_server: HTTPServer) -> None:
    provider_server.expect_oneshot_request(MESSAGES, method="POST").respond_with_json(
        {"sid": "SM222"}, status=201
    )
    message = sms(channel="whatsapp", content_sid="HX123", content_variables={"1": "Ana"})
    assert await provider(provider_server).send(message) == "SM222"
    form = received_form(provider_server)
    assert form["To"] == "whatsapp:+14155550123"
    assert form["From"] == "whatsapp:+15550002222"
    assert form["ContentSid"] == "HX123"
    assert json.loads(form["ContentVariables"]) == {"1": "Ana"}
    assert "Body" not in form


@pytest.mark.parametrize(("code", "withdraws"), [(21610, True), (21211, False), (21614, False)])
async def test_refused_recipients_fail_for_good(
    provider_server: HTTPServer, code: int, withdraws: bool
) -> None:
    error = {"code": code, "message": "The 'To' number +14155550123 is bad", "status": 400}
    provider_server.expect_request(MESSAGES).respond_with_json(error, status=400)
    with pytest.raises(PermanentSendError) as raised:
        await provider(provider_server).send(sms())
    assert raised.value.code == str(code)
    assert raised.value.withdraws_consent is withdraws
    assert "+1415" not in str(raised.value)


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_rate_limits_and_outages_are_retried(
    provider_server: HTTPServer, status: int
) -> None:
    error = {"code": 20429 if status == 429 else 20500, "message": "busy", "status": status}
    provider_server.expect_request(MESSAGES).respond_with_json(error, status=status)
    with pytest.raises(TransientSendError):
        await provider(provider_server).send(sms())


def flow(channel: str, template: dict[str, Any]) -> FlowConfig:
    return FlowConfig.model_validate(
        {"enabled": True, "steps": [{"delay_seconds": 0, "channel": channel, "template": template}]}
    )


def step(store_id: str, config: FlowConfig, run_key: str) -> StepRequest:
    return StepRequest(
        store_id=store_id,
        workflow_id=f"cart:{store_id}:k_1",
        run_key=run_key,
        flow=FlowKind.ABANDONED_CART,
        flow_version=1,
        step=0,
        customer_id="c_1",
        cart_id=None,
        flow_config=config,
    )


def twilio_settings(settings: Settings, server: HTTPServer) -> Settings:
    return settings.model_copy(
        update={
            "sms_provider": "twilio",
            "twilio_account_sid": ACCOUNT,
            "twilio_auth_token": "auth-token",
            "twilio_from_number": "+15550001111",
            "twilio_whatsapp_from": "+15550002222",
            "twilio_base_url": server.url_for(""),
            "public_base_url": "https://engine.test/",
        }
    )


async def test_the_step_activity_logs_the_provider_and_renders_template_variables(
    provider_server: HTTPServer, settings: Settings, sessionmaker: SessionMaker, store: StoreKeys
) -> None:
    await add_customer(sessionmaker, store.id)
    provider_server.expect_oneshot_request(MESSAGES).respond_with_json({"sid": "SM333"}, 201)
    activities = FlowActivities(
        sessionmaker, message_provider(twilio_settings(settings, provider_server)), "https://s"
    )
    config = flow(
        "whatsapp", {"content_sid": "HX1", "variables": {"1": "{{ customer.first_name }}"}}
    )
    activities.flows.remember(store.id, FlowKind.ABANDONED_CART, 1, config)
    result = await ActivityEnvironment().run(activities.run_flow_step, step(store.id, config, "r1"))
    assert result.status == "sent" and result.message_id
    form = received_form(provider_server)
    assert json.loads(form["ContentVariables"]) == {"1": "Ana"}
    assert form["StatusCallback"] == (
        f"https://engine.test/v1/webhooks/twilio/{store.id}/status?message_id={result.message_id}"
    )
    row = await message_row(sessionmaker, result.message_id)
    assert (row.status, row.provider, row.provider_message_id) == ("sent", "twilio", "SM333")


async def test_an_opted_out_number_fails_the_step_once_and_withdraws_consent(
    provider_server: HTTPServer, settings: Settings, sessionmaker: SessionMaker, store: StoreKeys
) -> None:
    await add_customer(sessionmaker, store.id)
    error = {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400}
    provider_server.expect_request(MESSAGES).respond_with_json(error, status=400)
    activities = FlowActivities(
        sessionmaker, message_provider(twilio_settings(settings, provider_server)), "https://s"
    )
    request = step(store.id, flow("sms", {"body": "Hi {{ link }}"}), "r2")
    activities.flows.remember(store.id, FlowKind.ABANDONED_CART, 1, request.flow_config)
    for _attempt in range(2):  # a retried attempt fails the same way without calling Twilio
        with pytest.raises(ApplicationError) as raised:
            await ActivityEnvironment().run(activities.run_flow_step, request)
        assert raised.value.type == "PermanentSendError"
        assert raised.value.non_retryable
        message_id, code = raised.value.details
        assert code == "21610"
    assert len(provider_server.log) == 1
    row = await message_row(sessionmaker, message_id)
    assert (row.status, row.failure_code, row.provider) == ("failed", "21610", "twilio")
    customer = await customer_row(sessionmaker, store.id)
    assert (customer.consent_sms, customer.consent_email) == (False, True)


def test_only_errors_before_the_request_was_sent_are_retried() -> None:
    """How the SDK's errors read (requests' adapter with urllib3, no retries): what failed to
    connect is transient, what failed after sending may have reached Twilio."""
    from urllib3.exceptions import (
        MaxRetryError,
        NewConnectionError,
        ProtocolError,
        ReadTimeoutError,
    )
    from urllib3.exceptions import SSLError as TLSError

    from integrations.twilio_messaging import _maybe_received

    def wrapped(reason: Exception) -> MaxRetryError:
        return MaxRetryError(None, "/Messages.json", reason)  # type: ignore[arg-type]

    refused = NewConnectionError(None, "Connection refused")  # type: ignore[arg-type]
    cert = TLSError(ssl.SSLCertVerificationError("certificate verify failed"))
    before = [
        requests.ConnectionError(wrapped(refused)),
        requests.ConnectTimeout(wrapped(refused)),
        requests.exceptions.SSLError(wrapped(cert)),
    ]
    after = [
        requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError())),
        requests.ReadTimeout(ReadTimeoutError(None, "/", "Read timed out.")),  # type: ignore[arg-type]
        requests.exceptions.SSLError(wrapped(TLSError(ssl.SSLEOFError("EOF in violation")))),
        requests.exceptions.ChunkedEncodingError(),
    ]
    assert [_maybe_received(e) for e in before] == [False] * len(before)
    assert [_maybe_received(e) for e in after] == [True] * len(after)
