"""What a messaging provider is given, and the `log` provider used in development: it records
that a message went out (by id, never the recipient) and accepts it."""

import logging
from dataclasses import dataclass
from typing import Protocol

from services.ids import new_id

log = logging.getLogger("shopstar.messages")


@dataclass(frozen=True)
class OutgoingMessage:
    message_id: str
    channel: str
    to: str
    subject: str | None
    body: str
    content_sid: str | None = None
    content_variables: dict[str, str] | None = None


class MessageProvider(Protocol):
    name: str

    async def send(self, message: OutgoingMessage) -> str:
        """Hand the message over; returns the provider's id for it."""
        ...


class LogProvider:
    name = "log"

    async def send(self, message: OutgoingMessage) -> str:
        log.info(
            "message sent", extra={"message_id": message.message_id, "channel": message.channel}
        )
        return new_id("log")
