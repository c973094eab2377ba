"""The activities of `GroupDealWorkflow`: bring the deal up to date in one transaction, and
hand the participants' notices to the providers."""

from dataclasses import dataclass

from temporalio import activity

from activities.notices import hand_over
from integrations.messaging import (
    MessageProvider,
)
from models.database import SessionMaker
from services.growth.deal_notices import DealNotice, claim_notices, release_notice
from services.growth.deal_runs import settle
from services.stores.settings import StoreDefaults

NOTICE_BATCH = 100


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


@dataclass
class NoticeRequest:
    store_id: str
    deal_id: str


class GroupDealActivities:
    def __init__(
        self, sessionmaker: SessionMaker, provider: MessageProvider, defaults: StoreDefaults
    ) -> None:
        self._sessionmaker = sessionmaker
        self._provider = provider
        self._defaults = defaults

    @activity.defn
    async def settle_group_deal(self, req: SettleRequest) -> SettledDeal:
        async with self._sessionmaker.begin() as session:
            state = await settle(
                session, req.store_id, req.deal_id, started=req.started, ended=req.ended
            )
        return SettledDeal(status=state.status, participants=state.participants)

    @activity.defn
    async def send_deal_notices(self, req: NoticeRequest) -> int:
        """Every notice owed, batch by batch; how many the providers took. An outage releases
        the notice and fails the attempt (Temporal retries it); the rest are not sent twice."""
        sent = 0
        while True:
            async with self._sessionmaker.begin() as session:
                notices = await claim_notices(
                    session, req.store_id, req.deal_id, self._defaults, NOTICE_BATCH
                )
            if not notices:
                return sent
            for i, notice in enumerate(notices):

                async def release(waiting: list[DealNotice] = notices[i:]) -> None:
                    async with self._sessionmaker.begin() as session:
                        for left in waiting:
                            await release_notice(session, left.participant_id)

                sent += await hand_over(self._provider, notice.message, release)
            activity.heartbeat(sent)
