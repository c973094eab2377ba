"""The activity of `GroupDealWorkflow`: bring the deal up to date in one transaction."""

from dataclasses import dataclass

from temporalio import activity

from models.database import SessionMaker
from services.growth.deal_runs import settle


@dataclass
class SettleRequest:
    store_id: str
    deal_id: str
    started: bool  # the run's clock has reached starts_at
    ended: bool  # ... and ends_at


@dataclass
class SettledDeal:
    status: str
    participants: int


class GroupDealActivities:
    def __init__(self, sessionmaker: SessionMaker) -> None:
        self._sessionmaker = sessionmaker

    @activity.defn
    async def settle_group_deal(self, req: SettleRequest) -> SettledDeal:
        async with self._sessionmaker.begin() as session:
            state = await settle(
                session, req.store_id, req.deal_id, started=req.started, ended=req.ended
            )
        return SettledDeal(status=state.status, participants=state.participants)
