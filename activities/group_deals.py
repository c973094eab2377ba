"""The activities of `GroupDealWorkflow`: bring the deal up to date in one transaction, and
hand the participants' notices to the providers."""

import logging
from dataclasses import dataclass

from temporalio import activity

from integrations.messaging import (
    AmbiguousSendError,
    MessageProvider,
    PermanentSendError,
    TransientSendError,
)
from models.database import SessionMaker
from services.growth.deal_notices import claim_notices, release_notice
from services.growth.deal_runs import settle
from services.stores.settings import StoreDefaults

log = logging.getLogger("shopstar.deals")
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
                try:
                    await self._provider.send(notice.message)
                    sent += 1
                except TransientSendError:
                    async with self._sessionmaker.begin() as session:
                        for waiting in notices[i:]:
                            await release_notice(session, waiting.participant_id)
                    raise
                except (PermanentSendError, AmbiguousSendError) as exc:
                    log.warning(
                        "deal notice not confirmed",
                        extra={
                            "participant_id": notice.participant_id,
                            "error": type(exc).__name__,
                        },
                    )
            activity.heartbeat(sent)
