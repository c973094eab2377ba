"""The activities of the referral and sharing runs: each step is one transaction of the
programs' services, safe to retry (a step asked again answers what it did)."""

from dataclasses import dataclass

from temporalio import activity

from activities.notices import hand_over
from flow_contract import ReferralRecorded, ReferralRewardInput, RewardSettled, SharingRewardInput
from integrations.messaging import MessageProvider
from models.database import SessionMaker
from services.growth import referrals, sharing
from services.growth.referral_notices import claim_referral_notice, release_referral_notice
from services.stores.settings import StoreDefaults


@dataclass
class SettleReferral:
    store_id: str
    referral_id: str


class ProgramRewardActivities:
    def __init__(
        self, sessionmaker: SessionMaker, provider: MessageProvider, defaults: StoreDefaults
    ) -> None:
        self._sessionmaker = sessionmaker
        self._provider = provider
        self._defaults = defaults

    @activity.defn
    async def record_referral(self, inp: ReferralRewardInput) -> ReferralRecorded:
        async with self._sessionmaker.begin() as session:
            return await referrals.record_referral(session, inp.store_id, inp.order_id, inp.code)

    @activity.defn
    async def settle_referral(self, req: SettleReferral) -> RewardSettled:
        async with self._sessionmaker.begin() as session:
            return await referrals.settle_referral(session, req.store_id, req.referral_id)

    @activity.defn
    async def send_referral_notice(self, req: SettleReferral) -> bool:
        """Tell the referrer of their reward, once; an outage releases it and fails the
        attempt (Temporal retries); a refusal or an unclear answer is not sent again."""
        async with self._sessionmaker.begin() as session:
            message = await claim_referral_notice(
                session, req.store_id, req.referral_id, self._defaults
            )
        if message is None:
            return False

        async def release() -> None:
            async with self._sessionmaker.begin() as session:
                await release_referral_notice(session, req.referral_id)

        return await hand_over(self._provider, message, release)

    @activity.defn
    async def settle_share_reward(self, inp: SharingRewardInput) -> RewardSettled:
        async with self._sessionmaker.begin() as session:
            return await sharing.settle_share_reward(session, inp.store_id, inp.link_id)
