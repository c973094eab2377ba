"""Group and flash deals as the API sees them: create, read, cancel, join and leave. Every
rule a burst of joins could break is held by PostgreSQL: a customer joins a deal once (a unique
constraint) and the count never passes the max (one conditional UPDATE on the deal row, which
also serialises joins, leaves and the run's activation). docs/growth.md tells the whole story."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from flow_contract import DealStatus
from models import GroupDeal, GroupDealParticipant, Product, ProductVariant
from services.errors import Conflict, NotFound, invalid_field
from services.growth.webhooks import WebhookEvent, emit
from services.ids import new_id
from services.pagination import fetch_page

# Joins are taken in these statuses (`scheduled` once its start has passed: the run may lag).
JOINABLE = (DealStatus.SCHEDULED, DealStatus.OPEN, DealStatus.ACTIVATED)
BEFORE_ACTIVATION = (DealStatus.SCHEDULED, DealStatus.OPEN)


class DealClosed(Conflict):
    """Not open yet, full, over (failed, expired) or cancelled."""

    code = "deal_closed"


class AlreadyJoined(Conflict):
    code = "already_joined"


async def _product_of(
    session: AsyncSession, store_id: str, product_id: str | None, variant_id: str | None
) -> tuple[str, str | None]:
    """The deal's product (and variant), as the catalog mirror knows them."""
    if (product_id is None) == (variant_id is None):
        raise invalid_field("product_id", "give exactly one of product_id and variant_id")
    if variant_id is not None:
        found = await session.scalar(
            select(ProductVariant.product_id).where(
                ProductVariant.store_id == store_id, ProductVariant.variant_id == variant_id
            )
        )
        if found is None:
            raise invalid_field("variant_id", "no such variant in the catalog")
        return found, variant_id
    known = await session.scalar(
        select(Product.product_id).where(
            Product.store_id == store_id,
            Product.product_id == product_id,
            Product.deleted_at.is_(None),
        )
    )
    if known is None:
        raise invalid_field("product_id", "no such product in the catalog")
    return known, None


async def create_deal(
    session: AsyncSession,
    store_id: str,
    *,
    product_id: str | None,
    variant_id: str | None,
    deal_price: int,
    currency: str,
    min_participants: int,
    max_participants: int | None,
    starts_at: datetime | None,
    ends_at: datetime,
) -> GroupDeal:
    """A deal, committed with the caller's transaction; the worker's outbox starts its run."""
    now = datetime.now(UTC)
    start = max(starts_at or now, now)
    if ends_at <= start:
        raise invalid_field("ends_at", "must be after starts_at and after now")
    if max_participants is not None and max_participants < min_participants:
        raise invalid_field("max_participants", "must be at least min_participants")
    product, variant = await _product_of(session, store_id, product_id, variant_id)
    deal = GroupDeal(
        id=new_id("deal"),
        store_id=store_id,
        product_id=product,
        variant_id=variant,
        deal_price=deal_price,
        currency=currency,
        min_participants=min_participants,
        max_participants=max_participants,
        participants=0,
        status=DealStatus.OPEN if start <= now else DealStatus.SCHEDULED,
        starts_at=start,
        ends_at=ends_at,
        wake_pending=False,
        created_at=now,
        updated_at=now,
    )
    session.add(deal)
    await session.flush()
    return deal


async def get_deal(session: AsyncSession, store_id: str, deal_id: str) -> GroupDeal:
    deal = await session.scalar(
        select(GroupDeal).where(GroupDeal.id == deal_id, GroupDeal.store_id == store_id)
    )
    if deal is None:
        raise NotFound("group deal not found", code="group_deal_not_found")
    return deal


async def list_deals(
    session: AsyncSession, store_id: str, *, limit: int, cursor: str | None
) -> tuple[list[GroupDeal], str | None]:
    query = select(GroupDeal).where(GroupDeal.store_id == store_id)
    return await fetch_page(session, query, GroupDeal, limit, cursor)


async def customer_ids(session: AsyncSession, deal_id: str) -> list[str]:
    rows = await session.scalars(
        select(GroupDealParticipant.customer_id)
        .where(
            GroupDealParticipant.deal_id == deal_id, GroupDealParticipant.customer_id.is_not(None)
        )
        .order_by(GroupDealParticipant.joined_at)
    )
    return [r for r in rows if r is not None]


async def end_deal(
    session: AsyncSession, deal: GroupDeal, status: DealStatus, now: datetime
) -> None:
    """Activate, fail or cancel a deal whose row the caller holds locked: the webhook the
    platform acts on (capture or void) and the message each participant is owed are recorded
    in this same transaction, so they happen exactly once."""
    deal.status = status
    deal.updated_at = now
    if status is DealStatus.ACTIVATED:
        deal.activated_at = now
    else:
        deal.ended_at = now
    event = {
        DealStatus.ACTIVATED: WebhookEvent.DEAL_ACTIVATED,
        DealStatus.FAILED: WebhookEvent.DEAL_FAILED,
        DealStatus.CANCELLED: WebhookEvent.DEAL_CANCELLED,
    }[status]
    await emit(
        session, deal.store_id, event, webhook_data(deal, await customer_ids(session, deal.id))
    )
    await session.execute(
        update(GroupDealParticipant)
        .where(GroupDealParticipant.deal_id == deal.id)
        .values(notice=str(status))
    )


def webhook_data(deal: GroupDeal, customers: list[str]) -> dict[str, Any]:
    """Ids and amounts only: what the platform needs to capture or void each authorization."""
    return {
        "deal_id": deal.id,
        "status": deal.status,
        "product_id": deal.product_id,
        "variant_id": deal.variant_id,
        "deal_price": deal.deal_price,
        "currency": deal.currency,
        "participants": deal.participants,
        "customer_ids": customers,
    }


async def lock_deal(session: AsyncSession, store_id: str, deal_id: str) -> GroupDeal:
    deal = await session.scalar(
        select(GroupDeal)
        .where(GroupDeal.id == deal_id, GroupDeal.store_id == store_id)
        .with_for_update()
    )
    if deal is None:
        raise NotFound("group deal not found", code="group_deal_not_found")
    return deal


async def cancel_deal(session: AsyncSession, store_id: str, deal_id: str) -> GroupDeal:
    """Staff end a deal before it activated (`deal.cancelled`: the platform voids); the run is
    woken to close. Cancelling a cancelled deal again changes nothing."""
    deal = await lock_deal(session, store_id, deal_id)
    if deal.status == DealStatus.CANCELLED:
        return deal
    if deal.status not in BEFORE_ACTIVATION:
        raise Conflict(f"the deal is already {deal.status}", code="deal_ended")
    await end_deal(session, deal, DealStatus.CANCELLED, datetime.now(UTC))
    deal.wake_pending = True
    await session.flush()
    return deal


async def join(session: AsyncSession, store_id: str, deal_id: str, customer_id: str) -> GroupDeal:
    """Add a participant (the platform authorized their payment). The count and the max are
    kept by one conditional UPDATE, which holds the deal row until the transaction ends; the
    run hears of it once the minimum is reached (`wake_pending`, coalesced per batch)."""
    deal = await get_deal(session, store_id, deal_id)
    joined = await session.scalar(
        select(GroupDealParticipant.id).where(
            GroupDealParticipant.deal_id == deal.id,
            GroupDealParticipant.customer_id == customer_id,
        )
    )
    if joined is not None:
        raise AlreadyJoined("this customer has already joined the deal")
    now = datetime.now(UTC)
    counted = await session.execute(
        update(GroupDeal)
        .where(
            GroupDeal.id == deal.id,
            GroupDeal.status.in_([str(s) for s in JOINABLE]),
            GroupDeal.starts_at <= now,
            GroupDeal.ends_at > now,
            (GroupDeal.max_participants.is_(None))
            | (GroupDeal.participants < GroupDeal.max_participants),
        )
        .values(
            participants=GroupDeal.participants + 1,
            # The run settles the deal once the minimum is reached, and tells the joiners of
            # an activated deal (its notice): a wake per batch of joins, never one per join.
            wake_pending=GroupDeal.wake_pending
            | (GroupDeal.status == str(DealStatus.ACTIVATED))
            | (
                GroupDeal.status.in_([str(s) for s in BEFORE_ACTIVATION])
                & (GroupDeal.participants + 1 >= GroupDeal.min_participants)
            ),
            updated_at=now,
        )
        .returning(GroupDeal.participants, GroupDeal.status)
        .execution_options(synchronize_session=False)
    )
    row = counted.one_or_none()
    if row is None:
        raise DealClosed("the deal is not open for joins (not started, full, or over)")
    inserted = await session.scalar(
        insert(GroupDealParticipant)
        .values(
            id=new_id("dpt"),
            store_id=store_id,
            deal_id=deal.id,
            customer_id=customer_id,
            joined_at=now,
            # Joined after activation: owed the activation message too.
            notice=DealStatus.ACTIVATED if row.status == DealStatus.ACTIVATED else None,
        )
        .on_conflict_do_nothing(index_elements=["deal_id", "customer_id"])
        .returning(GroupDealParticipant.id)
    )
    if inserted is None:  # a concurrent join of the same customer won: the count rolls back
        raise AlreadyJoined("this customer has already joined the deal")
    await session.refresh(deal)
    return deal


async def leave(session: AsyncSession, store_id: str, deal_id: str, customer_id: str) -> None:
    """Take a participant out before activation (the platform voids their authorization)."""
    deal = await lock_deal(session, store_id, deal_id)
    if deal.status == DealStatus.ACTIVATED:
        raise Conflict("the deal is activated: participants stay", code="deal_activated")
    if deal.status not in BEFORE_ACTIVATION:
        raise DealClosed(f"the deal is {deal.status}")
    removed = await session.scalar(
        delete(GroupDealParticipant)
        .where(
            GroupDealParticipant.deal_id == deal.id,
            GroupDealParticipant.customer_id == customer_id,
        )
        .returning(GroupDealParticipant.id)
    )
    if removed is None:
        raise NotFound("this customer has not joined the deal", code="participant_not_found")
    deal.participants -= 1
    deal.updated_at = datetime.now(UTC)
    await session.flush()
