"""Consent per channel as the shopper expresses it to us or to a provider: STOP and START
replies, unsubscribe links, spam reports and the providers' opt-out lists. A customer's
`updated_at` stays the platform's (it orders the platform's own upserts), so it is not touched."""

import hashlib
import hmac
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import Customer, Message

CONSENT_COLUMN = {
    "email": Customer.consent_email,
    "sms": Customer.consent_sms,
    "whatsapp": Customer.consent_whatsapp,
}
UNSUBSCRIBE_PATH = "/v1/unsubscribe/{store_id}/{message_id}"


def _consent_change(channel: str, granted: bool) -> dict[Any, Any]:
    """The new consent and when the shopper gave it, so an older platform upsert keeps it."""
    changed = func.jsonb_set(
        func.coalesce(Customer.consent_changed_at, text("'{}'::jsonb")),
        [channel],
        func.to_jsonb(func.now()),
    )
    return {CONSENT_COLUMN[channel]: granted, Customer.consent_changed_at: changed}


async def set_customer_consent(
    session: AsyncSession, store_id: str, customer_id: str, channel: str, granted: bool
) -> None:
    await session.execute(
        update(Customer)
        .where(Customer.store_id == store_id, Customer.customer_id == customer_id)
        .values(_consent_change(channel, granted))
    )


async def set_consent_by_phone(
    session: AsyncSession, store_id: str | None, phone: str, channel: str, granted: bool
) -> int:
    """Every customer with this number (spaces and dashes aside) in the store, or in every store
    when `store_id` is None (a sender number the stores share); returns how many."""
    digits = "".join(c for c in phone if c.isdigit() or c == "+")
    if len(digits) < 4:
        return 0
    stmt = update(Customer).where(func.regexp_replace(Customer.phone, "[^0-9+]", "", "g") == digits)
    if store_id is not None:
        stmt = stmt.where(Customer.store_id == store_id)
    result = await session.execute(
        stmt.values(_consent_change(channel, granted)).returning(Customer.customer_id)
    )
    return len(result.all())


def unsubscribe_token(secret: str, store_id: str, message_id: str) -> str:
    mac = hmac.new(secret.encode(), f"{store_id}:{message_id}".encode(), hashlib.sha256)
    return mac.hexdigest()[:32]


def unsubscribe_url(public_base_url: str, secret: str, store_id: str, message_id: str) -> str:
    """The link an email carries: it works for its own message only."""
    path = UNSUBSCRIBE_PATH.format(store_id=store_id, message_id=message_id)
    token = unsubscribe_token(secret, store_id, message_id)
    return f"{public_base_url.rstrip('/')}{path}?token={token}"


def valid_unsubscribe_token(secret: str, store_id: str, message_id: str, token: str) -> bool:
    # Bytes, not str: compare_digest refuses non-ASCII str, and a link's token is anyone's input.
    expected = unsubscribe_token(secret, store_id, message_id).encode()
    return hmac.compare_digest(expected, token.encode())


async def unsubscribe_by_message(session: AsyncSession, store_id: str, message_id: str) -> bool:
    """Withdraw email consent of the customer the message went to; False for an unknown one."""
    customer_id = await session.scalar(
        select(Message.customer_id).where(Message.store_id == store_id, Message.id == message_id)
    )
    if customer_id is None:
        return False
    await set_customer_consent(session, store_id, customer_id, "email", False)
    return True
