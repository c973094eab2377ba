"""GDPR erasure: a customer's personal data is removed from the engine's own records. Ids,
statuses and amounts stay, so the store's aggregates (sends, conversions) still add up."""

from typing import Any

from sqlalchemy import ColumnElement, and_, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import Event, GroupDealParticipant, Message
from services.attribution.visits import forget_customer
from services.growth import referrals, sharing

PERSONAL_FIELDS = ("email", "phone", "first_name", "locale", "timezone")


async def erase_personal_data(session: AsyncSession, store_id: str, customer_id: str) -> None:
    # The message log keeps flow, step, channel and status; what was written to the person goes.
    await session.execute(
        update(Message)
        .where(Message.store_id == store_id, Message.customer_id == customer_id)
        .values(customer_id=None, subject=None, body=None)
    )
    # A deal holds customer ids only: the participation stays counted, without the person.
    await session.execute(
        update(GroupDealParticipant)
        .where(
            GroupDealParticipant.store_id == store_id,
            GroupDealParticipant.customer_id == customer_id,
        )
        .values(customer_id=None)
    )
    await forget_customer(session, store_id, customer_id)
    # Referral codes and share links are disabled and unlinked; rewards stay as amounts.
    await referrals.erase_customer(session, store_id, customer_id)
    await sharing.erase_customer(session, store_id, customer_id)
    # The event log is append-only for routing, but the contact details it carried are removed.
    scrubbed: ColumnElement[Any] = Event.data.expression
    for name in PERSONAL_FIELDS:
        scrubbed = scrubbed.op("-")(name)
    await session.execute(
        update(Event)
        .where(
            and_(
                Event.store_id == store_id,
                Event.type == "customer.upserted",
                Event.data["customer_id"].astext == customer_id,
            )
        )
        .values(data=scrubbed)
    )
