"""What a deal's run (`GroupDealWorkflow`) asks of the database, and the worker's outbox that
starts the runs and wakes them. The run decides when (its timers); the rules are decided here,
under the deal's row lock, so a retried activity or a second run changes nothing twice."""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from flow_contract import DealStatus
from models import GroupDeal
from services.growth.deals import BEFORE_ACTIVATION, end_deal


@dataclass(frozen=True)
class DealState:
    status: str
    participants: int


async def settle(
    session: AsyncSession, store_id: str, deal_id: str, *, started: bool, ended: bool
) -> DealState:
    """Bring the deal up to date with the run's clock: open it once its start is reached,
    activate it once its count reaches the minimum (once), fail it at its end without the
    minimum. A deal that is gone reads as cancelled (its store was deleted)."""
    deal = await session.scalar(
        select(GroupDeal)
        .where(GroupDeal.id == deal_id, GroupDeal.store_id == store_id)
        .with_for_update()
    )
    if deal is None:
        return DealState(DealStatus.CANCELLED, 0)
    now = datetime.now(UTC)
    deal.wake_pending = False
    if deal.status == DealStatus.SCHEDULED and (started or ended):
        deal.status = DealStatus.OPEN
    if deal.status in BEFORE_ACTIVATION and deal.participants >= deal.min_participants:
        await end_deal(session, deal, DealStatus.ACTIVATED, now)
    elif deal.status in BEFORE_ACTIVATION and ended:
        await end_deal(session, deal, DealStatus.FAILED, now)
    elif deal.status == DealStatus.ACTIVATED and ended and deal.ended_at is None:
        deal.ended_at = now
    await session.flush()
    return DealState(deal.status, deal.participants)


async def claim_unstarted(
    session: AsyncSession, limit: int, store_ids: list[str] | None = None
) -> list[GroupDeal]:
    """Deals whose run is not started yet, locked (another worker skips them)."""
    query = select(GroupDeal).where(GroupDeal.run_started_at.is_(None))
    if store_ids is not None:
        query = query.where(GroupDeal.store_id.in_(store_ids))
    rows = await session.scalars(
        query.order_by(GroupDeal.created_at).limit(limit).with_for_update(skip_locked=True)
    )
    return list(rows)


def mark_started(rows: list[GroupDeal]) -> None:
    now = datetime.now(UTC)
    for row in rows:
        row.run_started_at = now


async def take_wakes(
    session: AsyncSession, limit: int, store_ids: list[str] | None = None
) -> list[tuple[str, str]]:
    """(store, deal) of the started runs with news, the flag cleared: joins after this set it
    again, so a hot deal costs one signal per round, never one per join."""
    query = select(GroupDeal.id).where(
        GroupDeal.wake_pending, GroupDeal.run_started_at.is_not(None)
    )
    if store_ids is not None:
        query = query.where(GroupDeal.store_id.in_(store_ids))
    pending = query.limit(limit).with_for_update(skip_locked=True).scalar_subquery()
    result = await session.execute(
        update(GroupDeal)
        .where(GroupDeal.id.in_(pending))
        .values(wake_pending=False)
        .returning(GroupDeal.store_id, GroupDeal.id)
        .execution_options(synchronize_session=False)
    )
    return [(store_id, deal_id) for store_id, deal_id in result.all()]


async def rewake(session: AsyncSession, deal_ids: list[str]) -> None:
    """The signal did not get through: try again next round."""
    await session.execute(
        update(GroupDeal)
        .where(GroupDeal.id.in_(deal_ids))
        .values(wake_pending=True)
        .execution_options(synchronize_session=False)
    )
