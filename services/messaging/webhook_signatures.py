"""Provider webhooks carry no API key: their signature is the authentication. Each check raises
`Unauthorized` before anything is read from or written to the store."""

import time
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from sendgrid.helpers.eventwebhook import EventWebhook
from twilio.request_validator import RequestValidator

from services.errors import Unauthorized

# A signed event batch older than this (or this far ahead of our clock) is refused: a captured
# batch cannot be replayed later. SendGrid delivers within seconds and retries with new ones.
SENDGRID_MAX_AGE_SECONDS = 300


def check_twilio_signature(
    auth_token: str | None, url: str, params: Mapping[str, Any], signature: str | None
) -> None:
    """`url` is the exact public URL Twilio called (scheme, host, path and query)."""
    if not auth_token:
        raise Unauthorized("twilio webhooks are not configured (SHOPSTAR_TWILIO_AUTH_TOKEN)")
    if not signature or not RequestValidator(auth_token).validate(url, params, signature):
        raise Unauthorized("missing or invalid X-Twilio-Signature")


@lru_cache(maxsize=4)
def _verifier(public_key: str) -> tuple[EventWebhook, Any]:
    webhook = EventWebhook()
    return webhook, webhook.convert_public_key_to_ecdsa(public_key)


def check_sendgrid_signature(
    public_key: str | None,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    now: float | None = None,
) -> None:
    """ECDSA over the timestamp and the raw body, as received: never re-serialised JSON; and
    the signed timestamp within `SENDGRID_MAX_AGE_SECONDS` of `now`."""
    if not public_key:
        raise Unauthorized(
            "sendgrid webhooks are not configured (SHOPSTAR_SENDGRID_WEBHOOK_PUBLIC_KEY)"
        )
    if not signature or not timestamp:
        raise Unauthorized("missing X-Twilio-Email-Event-Webhook-Signature or -Timestamp")
    webhook, key = _verifier(public_key)
    try:
        # The SDK takes text; decoding UTF-8 and encoding it again gives back the same bytes.
        valid = webhook.verify_signature(body.decode("utf-8"), signature, timestamp, key)
    except ValueError:  # not UTF-8, or a signature that is not base64
        valid = False
    if not valid:
        raise Unauthorized("invalid X-Twilio-Email-Event-Webhook-Signature")
    try:
        age = (time.time() if now is None else now) - int(timestamp)
    except ValueError:
        age = None
    if age is None or abs(age) > SENDGRID_MAX_AGE_SECONDS:
        raise Unauthorized(
            "X-Twilio-Email-Event-Webhook-Timestamp is not within 5 minutes of now: "
            "a stale or replayed batch",
            code="stale_webhook",
        )
