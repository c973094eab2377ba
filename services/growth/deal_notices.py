"""The message each participant of a group deal is owed when it ends (activated, failed,
cancelled). `end_deal` records the notice on the participant's row in the transaction that ends
the deal; the deal's run then hands them to the providers here, in batches, at most once each:
a notice is marked before its provider call (as a flow step is), and released again only when
the provider surely did not take it.

These are service messages about a payment the customer authorized, not marketing: they go
to the customer's email when one is known, else by SMS, without the marketing consent a flow
needs (an erased customer, or one without contact, gets none; the platform hears of every end
through the deal's webhook anyway)."""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from flow_contract import DealStatus
from integrations.messaging import OutgoingMessage
from models import Customer, GroupDeal, GroupDealParticipant, Product, Store
from services.checkout.pricing.money import format_amount
from services.growth.notices import notice, reach
from services.stores.settings import StoreDefaults, effective_settings

SUBJECTS = {
    DealStatus.ACTIVATED: "Your group deal is on",
    DealStatus.FAILED: "Your group deal did not go through",
    DealStatus.CANCELLED: "Your group deal was cancelled",
}
BODIES = {
    DealStatus.ACTIVATED: (
        "Good news: the group deal for {title} reached its {needed} participants. "
        "You get it at {price} {currency}; your payment is now captured."
    ),
    DealStatus.FAILED: (
        "The group deal for {title} did not reach its {needed} participants in time. "
        "Nothing is charged: your payment authorization is released."
    ),
    DealStatus.CANCELLED: (
        "The group deal for {title} was cancelled by the store. "
        "Nothing is charged: your payment authorization is released."
    ),
}


@dataclass(frozen=True)
class DealNotice:
    participant_id: str
    message: OutgoingMessage


async def claim_notices(
    session: AsyncSession, store_id: str, deal_id: str, defaults: StoreDefaults, limit: int
) -> list[DealNotice]:
    """Up to `limit` notices not handed over yet, marked as handed over (commit before the
    provider calls). Participants without a way to reach them are marked and skipped."""
    rows = (
        await session.execute(
            select(GroupDealParticipant, Customer)
            .outerjoin(
                Customer,
                (Customer.store_id == GroupDealParticipant.store_id)
                & (Customer.customer_id == GroupDealParticipant.customer_id),
            )
            .where(
                GroupDealParticipant.store_id == store_id,
                GroupDealParticipant.deal_id == deal_id,
                GroupDealParticipant.notice.is_not(None),
                GroupDealParticipant.notified_at.is_(None),
            )
            .order_by(GroupDealParticipant.joined_at)
            .limit(limit)
            .with_for_update(of=GroupDealParticipant, skip_locked=True)
        )
    ).all()
    if not rows:
        return []
    deal = await session.get_one(GroupDeal, deal_id)
    store = await session.get(Store, store_id)
    own = effective_settings(store, defaults)
    title = await _title(session, deal)
    now = datetime.now(UTC)
    notices = []
    for participant, customer in rows:
        participant.notified_at = now
        to = reach(customer)
        if to is None:
            continue
        status = DealStatus(participant.notice or DealStatus.ACTIVATED)  # the query: not None
        text = BODIES[status].format(
            title=title,
            needed=deal.min_participants,
            price=format_amount(deal.deal_price, deal.currency),
            currency=deal.currency,
        )
        message = notice(participant.id, store_id, own, to, SUBJECTS[status], text)
        notices.append(DealNotice(participant.id, message))
    await session.flush()
    return notices


async def release_notice(session: AsyncSession, participant_id: str) -> None:
    """The provider surely did not take it (an outage): hand it over again later."""
    await session.execute(
        update(GroupDealParticipant)
        .where(GroupDealParticipant.id == participant_id)
        .values(notified_at=None)
    )


async def _title(session: AsyncSession, deal: GroupDeal) -> str:
    if deal.product_id is None:
        return "your product"
    title = await session.scalar(
        select(Product.title).where(
            Product.store_id == deal.store_id, Product.product_id == deal.product_id
        )
    )
    return title or "your product"
