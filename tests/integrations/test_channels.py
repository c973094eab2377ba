"""Choosing providers from settings: `log` by default, real ones only with their credentials."""

import pytest
from pydantic import ValidationError

from config import Settings
from integrations.messaging import ChannelProviders, LogProvider, provider_for
from integrations.sendgrid_email import SendGridProvider
from integrations.twilio_messaging import TwilioProvider
from worker import message_provider

TWILIO: dict[str, str | None] = {
    "sms_provider": "twilio",
    "twilio_account_sid": "AC1",
    "twilio_auth_token": "token",
    "twilio_from_number": "+15550001111",
}
SENDGRID: dict[str, str | None] = {
    "email_provider": "sendgrid",
    "sendgrid_api_key": "SG.key",
    "sendgrid_from_email": "shop@example.com",
}

# Production refuses placeholder secrets; these pass so that the one under test is reached.
REAL_SECRETS = {
    "operator_token": "o" * 40,
    "gift_card_hash_key": "g" * 40,
    "shopper_token_secret": "s" * 40,
}


def test_log_is_the_default_for_every_channel() -> None:
    provider = message_provider(Settings(environment="development"))
    assert isinstance(provider, ChannelProviders)
    for channel in ("email", "sms", "whatsapp"):
        assert isinstance(provider_for(provider, channel), LogProvider)


def test_configured_providers_get_their_channels() -> None:
    provider = message_provider(
        Settings.model_validate({"environment": "test"} | TWILIO | SENDGRID)
    )
    assert isinstance(provider_for(provider, "email"), SendGridProvider)
    assert isinstance(provider_for(provider, "sms"), TwilioProvider)
    assert isinstance(provider_for(provider, "whatsapp"), TwilioProvider)


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ({"email_provider": "sendgrid"}, "SHOPSTAR_SENDGRID_API_KEY"),
        ({**SENDGRID, "sendgrid_from_email": None}, "SHOPSTAR_SENDGRID_FROM_EMAIL"),
        ({"sms_provider": "twilio", "twilio_account_sid": "AC1"}, "SHOPSTAR_TWILIO_AUTH_TOKEN"),
        ({**TWILIO, "twilio_from_number": None}, "SHOPSTAR_TWILIO_FROM_NUMBER"),
        ({"sendgrid_webhook_public_key": "not a key"}, "not an ECDSA public key"),
        (
            {**SENDGRID, "environment": "production", **REAL_SECRETS},
            "SHOPSTAR_UNSUBSCRIBE_SECRET",
        ),
        (
            {"environment": "production", **REAL_SECRETS, "shopper_token_secret": ""},
            "SHOPSTAR_SHOPPER_TOKEN_SECRET",
        ),
    ],
)
def test_a_chosen_provider_without_credentials_is_refused_at_startup(
    fields: dict[str, str | None], complaint: str
) -> None:
    with pytest.raises(ValidationError, match=complaint):
        Settings.model_validate({"environment": "test"} | fields)
