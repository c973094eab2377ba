"""The activities of the referral and sharing runs: each step is one transaction of the
programs' services, safe to retry (a step asked again answers what it did)."""

from dataclasses import dataclass

from temporalio import activity

from flow_contract import ReferralRecorded, ReferralRewardInput, RewardSettled, SharingRewardInput
from models.database import SessionMaker
from services.growth import referrals, sharing


@dataclass
class SettleReferral:
    store_id: str
    referral_id: str


class ProgramRewardActivities:
    def __init__(self, sessionmaker: SessionMaker) -> None:
        self._sessionmaker = sessionmaker

    @activity.defn
    async def record_referral(self, inp: ReferralRewardInput) -> ReferralRecorded:
        async with self._sessionmaker.begin() as session:
            return await referrals.record_referral(session, inp.store_id, inp.order_id, inp.code)

    @activity.defn
    async def settle_referral(self, req: SettleReferral) -> RewardSettled:
        async with self._sessionmaker.begin() as session:
            return await referrals.settle_referral(session, req.store_id, req.referral_id)

    @activity.defn
    async def settle_share_reward(self, inp: SharingRewardInput) -> RewardSettled:
        async with self._sessionmaker.begin() as session:
            return await sharing.settle_share_reward(session, inp.store_id, inp.link_id)
