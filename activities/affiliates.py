"""The activities of the affiliate runs: approve a commission after its hold, and the weekly
payout round of a store. Each is one transaction; the rules are in services/growth/."""

from dataclasses import dataclass

from temporalio import activity

from models.database import SessionMaker
from services.growth.commissions import approve
from services.growth.payouts import automatic_payouts


@dataclass
class ApproveRequest:
    store_id: str
    order_id: str


@dataclass
class PayoutRound:
    store_id: str


@dataclass
class PayoutRoundDone:
    payouts: int
    amount: int  # summed over currencies: a figure for the run's result, not money to pay


class AffiliateActivities:
    def __init__(self, sessionmaker: SessionMaker) -> None:
        self._sessionmaker = sessionmaker

    @activity.defn
    async def approve_commission(self, req: ApproveRequest) -> str:
        """The commission's status after the hold (`approved`, or `voided` if refunded)."""
        async with self._sessionmaker.begin() as session:
            return await approve(session, req.store_id, req.order_id)

    @activity.defn
    async def create_automatic_payouts(self, req: PayoutRound) -> PayoutRoundDone:
        async with self._sessionmaker.begin() as session:
            payouts = await automatic_payouts(session, req.store_id)
        return PayoutRoundDone(len(payouts), sum(p.amount for p in payouts))
