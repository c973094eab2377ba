"""Email through the official SendGrid SDK, against a local fake of `POST /v3/mail/send`."""

import json

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from devstack.temporal import free_port
from integrations.messaging import OutgoingMessage, PermanentSendError, TransientSendError
from integrations.sendgrid_email import SendGridProvider, html_body

UNSUBSCRIBE = "https://engine.test/v1/unsubscribe/st_1/msg_1?token=t"


def email(
    body: str = "Hi Ana, your cart: https://shop.test/cart/k_1?utm_source=shopstar&x=1",
) -> OutgoingMessage:
    return OutgoingMessage(
        message_id="msg_1",
        channel="email",
        to="ana@example.com",
        subject="You left something",
        body=body,
        store_id="st_1",
    )


def provider(server: HTTPServer) -> SendGridProvider:
    return SendGridProvider(
        "SG.test-key", "shop@example.com", lambda _: UNSUBSCRIBE, host=server.url_for("")
    )


async def test_a_mail_reaches_sendgrid_with_both_bodies_and_our_ids(
    provider_server: HTTPServer,
) -> None:
    provider_server.expect_oneshot_request("/v3/mail/send", method="POST").respond_with_response(
        Response(status=202, headers={"X-Message-Id": "sg-abc"})
    )
    assert await provider(provider_server).send(email()) == "sg-abc"

    ((request, _),) = provider_server.log
    assert request.headers["Authorization"] == "Bearer SG.test-key"
    mail = json.loads(request.data)
    assert mail["personalizations"] == [{"to": [{"email": "ana@example.com"}]}]
    assert mail["from"] == {"email": "shop@example.com"}
    assert mail["subject"] == "You left something"
    assert [c["type"] for c in mail["content"]] == ["text/plain", "text/html"]
    text, page = (c["value"] for c in mail["content"])
    assert text.startswith("Hi Ana, your cart: https://shop.test/cart/k_1")
    assert UNSUBSCRIBE in text
    assert '<a href="https://shop.test/cart/k_1?utm_source=shopstar&amp;x=1">' in page
    assert f'<a href="{UNSUBSCRIBE}">Unsubscribe</a>' in page
    assert mail["custom_args"] == {"shopstar_message_id": "msg_1", "shopstar_store_id": "st_1"}
    assert mail["headers"] == {
        "List-Unsubscribe": f"<{UNSUBSCRIBE}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def test_the_html_body_escapes_what_staff_wrote() -> None:
    page = html_body('Hi <b>"Ana"</b> & co.\nSee https://shop.test/p/1.', UNSUBSCRIBE)
    assert "&lt;b&gt;&quot;Ana&quot;&lt;/b&gt; &amp; co.<br>" in page
    # The full stop ends the sentence, not the link.
    assert '<a href="https://shop.test/p/1">https://shop.test/p/1</a>.' in page


async def test_a_refused_address_fails_for_good_without_quoting_it(
    provider_server: HTTPServer,
) -> None:
    errors = {
        "errors": [
            {
                "message": "Invalid email ana@example",
                "field": "personalizations.0.to.0.email",
            }
        ]
    }
    provider_server.expect_request("/v3/mail/send").respond_with_json(errors, status=400)
    with pytest.raises(PermanentSendError) as raised:
        await provider(provider_server).send(email())
    assert raised.value.code == "http_400"
    assert "personalizations.0.to.0.email" in raised.value.reason
    assert "ana@example" not in str(raised.value)
    assert not raised.value.withdraws_consent


@pytest.mark.parametrize("status", [429, 500, 503, 401])
async def test_rate_limits_outages_and_credentials_are_retried(
    provider_server: HTTPServer, status: int
) -> None:
    provider_server.expect_request("/v3/mail/send").respond_with_data("busy", status=status)
    with pytest.raises(TransientSendError):
        await provider(provider_server).send(email())


async def test_an_unreachable_sendgrid_is_retried() -> None:
    nowhere = SendGridProvider(
        "SG.k", "shop@example.com", lambda _: UNSUBSCRIBE, host=f"http://127.0.0.1:{free_port()}"
    )
    with pytest.raises(TransientSendError):
        await nowhere.send(email())
