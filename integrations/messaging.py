"""What a messaging provider is given, how it fails, and the providers that need no outside
service: the `log` provider used in development (it records that a message went out, by id, never
the recipient) and the per-channel router in front of the real ones."""

import logging
import uuid
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger("shopstar.messages")


def is_retryable(status: int) -> bool:
    """An HTTP status a provider answered that is worth another try: rate limits and outages,
    and also rejected credentials or sender, which only the operator can fix (the message should
    wait for that rather than be dropped)."""
    return status in (401, 403, 408, 429) or status >= 500


@dataclass(frozen=True)
class OutgoingMessage:
    message_id: str
    channel: str
    to: str
    subject: str | None
    body: str
    content_sid: str | None = None
    content_variables: dict[str, str] | None = None
    store_id: str | None = None
    # The store's sender (from address or number) and reply-to; None: the provider's default.
    sender: str | None = None
    sender_name: str | None = None
    reply_to: str | None = None


class MessageProvider(Protocol):
    name: str

    async def send(self, message: OutgoingMessage) -> str:
        """Hand the message over; returns the provider's id for it."""
        ...


class PermanentSendError(Exception):
    """The provider refused the message and would refuse it again: do not retry.

    `code` is the provider's error code (Twilio's `21610`, SendGrid's `http_400`); `reason` is a
    short text written by us, never the provider's message, which can quote the recipient."""

    def __init__(self, code: str, reason: str, *, withdraws_consent: bool = False) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        # The recipient opted out at the provider (Twilio 21610): mirror it into our consent.
        self.withdraws_consent = withdraws_consent


class TransientSendError(Exception):
    """The provider could not take the message now (rate limit, outage, no connection): retry
    later. Raised only when the provider surely did not accept the message."""


class AmbiguousSendError(Exception):
    """The request may have reached the provider (a read timeout, a connection dropped after the
    request was sent, an incomplete answer): the message may be on its way. Never send it again;
    the provider's status callback or event tells what happened."""


class LogProvider:
    name = "log"

    async def send(self, message: OutgoingMessage) -> str:
        log.info(
            "message sent", extra={"message_id": message.message_id, "channel": message.channel}
        )
        return f"log_{uuid.uuid4().hex[:20]}"  # what a provider would answer: an id


class ChannelProviders:
    """Email to one provider, SMS and WhatsApp to another."""

    name = "channels"

    def __init__(self, email: MessageProvider, phone: MessageProvider) -> None:
        self._by_channel = {"email": email, "sms": phone, "whatsapp": phone}

    def for_channel(self, channel: str) -> MessageProvider:
        try:
            return self._by_channel[channel]
        except KeyError:
            raise PermanentSendError("unknown_channel", f"no provider for {channel!r}") from None

    async def send(self, message: OutgoingMessage) -> str:
        return await self.for_channel(message.channel).send(message)


def provider_for(provider: MessageProvider, channel: str) -> MessageProvider:
    """The provider that really sends on `channel`, so the log names `twilio`, not a router."""
    return provider.for_channel(channel) if isinstance(provider, ChannelProviders) else provider
