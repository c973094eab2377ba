"""Handing a program's notice (a group deal's end, a referral reward) to the provider, once:
the caller marked it as handed over before; this releases it only when the provider surely did
not take it (an outage: the activity fails and Temporal retries), and never sends a refused or
maybe-taken one again."""

import logging
from collections.abc import Awaitable, Callable

from integrations.messaging import (
    AmbiguousSendError,
    MessageProvider,
    OutgoingMessage,
    PermanentSendError,
    TransientSendError,
)

log = logging.getLogger("shopstar.notices")


async def hand_over(
    provider: MessageProvider, message: OutgoingMessage, release: Callable[[], Awaitable[None]]
) -> bool:
    """True when the provider took the message."""
    try:
        await provider.send(message)
    except TransientSendError:
        await release()
        raise
    except (PermanentSendError, AmbiguousSendError) as exc:
        log.warning(
            "notice not confirmed",
            extra={"message_id": message.message_id, "error": type(exc).__name__},
        )
        return False
    return True
