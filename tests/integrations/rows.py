"""Rows the provider tests start from, written straight to the database: a webhook test should
not depend on a workflow having sent the message."""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from models import Customer, Message
from models.database import SessionMaker


async def add_customer(
    sessionmaker: SessionMaker, store_id: str, customer_id: str = "c_1", **fields: Any
) -> None:
    values: dict[str, Any] = {
        "email": "ana@example.com",
        "phone": "+14155550123",
        "first_name": "Ana",
        "consent_email": True,
        "consent_sms": True,
        "consent_whatsapp": True,
        "updated_at": datetime(2026, 11, 24, tzinfo=UTC),
        "shopper_groups": [],
    }
    values.update(fields)
    async with sessionmaker.begin() as session:
        session.add(Customer(store_id=store_id, customer_id=customer_id, **values))


async def add_message(
    sessionmaker: SessionMaker,
    store_id: str,
    *,
    channel: str = "sms",
    status: str = "sent",
    provider_message_id: str | None = None,
    customer_id: str = "c_1",
) -> str:
    message_id = f"msg_{uuid.uuid4().hex[:20]}"
    now = datetime.now(UTC)
    async with sessionmaker.begin() as session:
        session.add(
            Message(
                id=message_id,
                store_id=store_id,
                customer_id=customer_id,
                flow="abandoned_cart",
                step=0,
                channel=channel,
                status=status,
                workflow_id=f"cart:{store_id}:{message_id}",
                idempotency_key=f"test:{message_id}",
                provider="twilio" if channel != "email" else "sendgrid",
                provider_message_id=provider_message_id,
                sent_at=now,
                updated_at=now,
            )
        )
    return message_id


async def message_row(sessionmaker: SessionMaker, message_id: str) -> Message:
    async with sessionmaker() as session:
        row = await session.scalar(select(Message).where(Message.id == message_id))
    assert row is not None
    return row


async def customer_row(
    sessionmaker: SessionMaker, store_id: str, customer_id: str = "c_1"
) -> Customer:
    async with sessionmaker() as session:
        row = await session.get(Customer, (store_id, customer_id))
    assert row is not None
    return row
