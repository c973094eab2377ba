"""What the providers tell us after a send: delivery statuses, stored monotonically (events
arrive out of order and more than once), and the shopper's opt-outs, mirrored into consent."""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from flow_contract import MessageStatus
from integrations.sendgrid_email import MESSAGE_ID_ARG, STORE_ID_ARG
from integrations.twilio_messaging import UNSUBSCRIBED
from models import Message, WebhookReceipt
from services.messaging.consent import set_consent_by_phone, set_customer_consent

log = logging.getLogger("shopstar.provider_events")

# A status only moves up: a late "sent" never undoes "delivered", nor "failed" a delivery.
# `unknown` (the provider may have the message, it did not answer) is settled by any report.
STATUS_RANK = {
    MessageStatus.PENDING: 0,
    MessageStatus.UNKNOWN: 1,
    MessageStatus.SENT: 2,
    MessageStatus.FAILED: 3,
    MessageStatus.DELIVERED: 4,
}
TWILIO_STATUS = {
    "accepted": MessageStatus.SENT,
    "scheduled": MessageStatus.SENT,
    "queued": MessageStatus.SENT,
    "sending": MessageStatus.SENT,
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.FAILED,
    "failed": MessageStatus.FAILED,
}
OPT_OUT_WORDS = {"STOP", "UNSUBSCRIBE", "END", "QUIT", "STOPALL", "REVOKE", "OPTOUT", "CANCEL"}
OPT_IN_WORDS = {"START", "YES", "UNSTOP"}
SHARED = "*"  # the receipts' store of the account-wide webhooks
SENDGRID_DELIVERED = {"delivered", "open", "click"}  # an open or a click proves delivery
SENDGRID_ACCEPTED = {"processed", "deferred"}  # SendGrid has the message: settles `unknown`
SENDGRID_WITHDRAWS = {"spamreport", "unsubscribe", "group_unsubscribe"}
# `dropped` because the address is on the account's suppression lists for one of these.
DROPPED_WITHDRAWS = ("unsubscribed address", "spam reporting address")


@dataclass(frozen=True)
class EventCounts:
    applied: int = 0
    duplicates: int = 0
    ignored: int = 0


async def advance_status(
    session: AsyncSession, message_id: str, status: MessageStatus, failure_code: str | None = None
) -> bool:
    """Move the message to `status` unless it is already there or further; True if it moved."""
    rank = case(STATUS_RANK, value=Message.status, else_=len(STATUS_RANK))
    values: dict[str, Any] = {"status": status, "updated_at": datetime.now(UTC)}
    if status == MessageStatus.FAILED:
        values["failure_code"] = failure_code
    result = await session.execute(
        update(Message)
        .where(Message.id == message_id, rank < STATUS_RANK[status])
        .values(values)
        .returning(Message.id)
    )
    return result.first() is not None


async def apply_twilio_status(
    session: AsyncSession,
    store_id: str,
    message_sid: str,
    status: str,
    error_code: str | None,
    message_id: str | None = None,
) -> bool:
    """A status callback; True when the message's status moved. The message is found by its
    SID, or by our id (the callback URL's `message_id`) when the SID never came back to us."""
    ours = TWILIO_STATUS.get(status.lower())
    if ours is None or not message_sid:
        return False
    message = await _twilio_message(session, store_id, message_sid, message_id)
    if message is None:
        return False
    moved = await advance_status(session, message.id, ours, error_code or status.lower())
    if error_code == str(UNSUBSCRIBED) and message.customer_id:
        await set_customer_consent(session, store_id, message.customer_id, message.channel, False)
    log.info("twilio status", extra={"message_id": message.id, "status": ours, "moved": moved})
    return moved


async def _twilio_message(
    session: AsyncSession, store_id: str, message_sid: str, message_id: str | None
) -> Message | None:
    message = await session.scalar(
        select(Message).where(
            Message.store_id == store_id, Message.provider_message_id == message_sid
        )
    )
    if message is not None or not message_id:
        return message
    message = await session.scalar(
        select(Message).where(
            Message.store_id == store_id,
            Message.id == message_id,
            Message.provider_message_id.is_(None),
            Message.channel.in_(("sms", "whatsapp")),
        )
    )
    if message is not None:
        message.provider_message_id = message_sid[:200]  # learnt at last
    return message


async def apply_twilio_inbound(
    session: AsyncSession, store_id: str | None, message_sid: str, sender: str, body: str
) -> int:
    """An inbound reply: opt-out words withdraw consent for the channel it came on, opt-in words
    restore it, in one store or (None) in every store: Twilio blocks a number that replied STOP
    for the whole sender. Returns how many customers changed (0 for any other message).

    Each `MessageSid` is applied once: a captured, signed `START` replayed after a later `STOP`
    changes nothing. (The signature covers the URL, so a per-store request cannot be replayed to
    the shared URL: one receipt per URL's store, `*` for the shared one, is enough.)"""
    if not await _first_receipt(session, store_id or SHARED, "twilio_inbound", message_sid):
        log.info("twilio inbound replayed")
        return 0
    word = body.strip().upper()
    if word in OPT_OUT_WORDS:
        granted = False
    elif word in OPT_IN_WORDS:
        granted = True
    else:
        return 0
    channel = "whatsapp" if sender.startswith("whatsapp:") else "sms"
    phone = sender.removeprefix("whatsapp:")
    changed = await set_consent_by_phone(session, store_id, phone, channel, granted)
    log.info(
        "consent keyword", extra={"channel": channel, "granted": granted, "customers": changed}
    )
    return changed


async def apply_sendgrid_events(
    session: AsyncSession, store_id: str | None, events: list[Any]
) -> EventCounts:
    """One event-webhook batch, for one store or (None) for the stores the events name in their
    custom args. Each `sg_event_id` is applied once; events that name no message of the store
    (mail sent by other systems) are acknowledged and ignored."""
    applied = duplicates = ignored = 0
    for event in events:
        event_id = event.get("sg_event_id") if isinstance(event, dict) else None
        event_store = store_id or (event.get(STORE_ID_ARG) if isinstance(event, dict) else None)
        if not isinstance(event_id, str) or not event_id or not isinstance(event_store, str):
            ignored += 1
            continue
        if not await _first_receipt(session, event_store, "sendgrid", event_id):
            duplicates += 1
            continue
        message = await _sendgrid_message(session, event_store, event)
        if message is None:
            ignored += 1
            continue
        await _apply_sendgrid_event(session, message, event)
        applied += 1
    return EventCounts(applied=applied, duplicates=duplicates, ignored=ignored)


async def _sendgrid_message(
    session: AsyncSession, store_id: str, event: dict[str, Any]
) -> Message | None:
    """By our id in the custom args (there even when SendGrid's answer to the send was lost),
    else by `sg_message_id`, which starts with the `X-Message-Id` SendGrid answered."""
    message_id = event.get(MESSAGE_ID_ARG)
    if isinstance(message_id, str) and message_id:
        return await session.scalar(
            select(Message).where(Message.store_id == store_id, Message.id == message_id)
        )
    sg_message_id = event.get("sg_message_id")
    if not isinstance(sg_message_id, str) or not sg_message_id:
        return None
    parts = sg_message_id[:400].split(".")
    prefixes = [".".join(parts[: n + 1]) for n in range(min(len(parts), 8))]
    return await session.scalar(
        select(Message)
        .where(
            Message.store_id == store_id,
            Message.channel == "email",
            Message.provider_message_id.in_(prefixes),
        )
        .limit(1)
    )


async def _apply_sendgrid_event(
    session: AsyncSession, message: Message, event: dict[str, Any]
) -> None:
    kind = str(event.get("event", ""))
    if kind in SENDGRID_DELIVERED:
        await advance_status(session, message.id, MessageStatus.DELIVERED)
    elif kind in SENDGRID_ACCEPTED:
        await advance_status(session, message.id, MessageStatus.SENT)
    elif kind == "bounce":
        code = "blocked" if event.get("type") == "blocked" else "bounce"
        await advance_status(session, message.id, MessageStatus.FAILED, code)
    elif kind == "dropped":
        await advance_status(session, message.id, MessageStatus.FAILED, "dropped")
    reason = str(event.get("reason", "")).lower()
    withdraws = kind in SENDGRID_WITHDRAWS or (
        kind == "dropped" and any(r in reason for r in DROPPED_WITHDRAWS)
    )
    if withdraws and message.customer_id:
        await set_customer_consent(session, message.store_id, message.customer_id, "email", False)
    log.info("sendgrid event", extra={"message_id": message.id, "event": kind})


async def _first_receipt(
    session: AsyncSession, store_id: str, provider: str, event_id: str
) -> bool:
    result = await session.execute(
        insert(WebhookReceipt)
        .values(store_id=store_id[:40], provider=provider, event_id=event_id[:200])
        .on_conflict_do_nothing()
        .returning(WebhookReceipt.event_id)
    )
    return result.first() is not None
