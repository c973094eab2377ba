"""The referrer's message when a referral is rewarded (services/growth/notices.py says how
such messages go): `settle_referral` records it with the grant, the referral's run hands it
over here, once (marked before the provider call, released only when the provider surely did
not take it)."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from integrations.messaging import OutgoingMessage
from models import Customer, Referral, Store
from services.checkout.pricing.money import format_amount
from services.growth.notices import notice, reach
from services.stores.settings import StoreDefaults, effective_settings

SUBJECT = "You earned a referral reward"


def reward_text(granted: dict[str, Any]) -> str:
    if granted.get("type") == "store_credit":
        amount = format_amount(int(granted["amount"]), str(granted["currency"]))
        return (
            "A friend you referred placed their first order: you earned "
            f"{amount} {granted['currency']} of store credit, taken off your next checkout."
        )
    return (
        "A friend you referred placed their first order: you earned a reward. "
        f"Use the code {granted.get('code')} at your next checkout."
    )


async def claim_referral_notice(
    session: AsyncSession, store_id: str, referral_id: str, defaults: StoreDefaults
) -> OutgoingMessage | None:
    """The referrer's message if it is owed and not handed over yet, marked as handed over
    (commit before the provider call); None otherwise, or when the referrer cannot be reached."""
    row = await session.scalar(
        select(Referral)
        .where(
            Referral.store_id == store_id,
            Referral.id == referral_id,
            Referral.notice.is_not(None),
            Referral.notified_at.is_(None),
        )
        .with_for_update(skip_locked=True)
    )
    if row is None or row.referrer_id is None:
        return None
    row.notified_at = datetime.now(UTC)
    granted = (row.granted or {}).get("referrer")
    customer = await session.get(Customer, (store_id, row.referrer_id))
    to = reach(customer)
    if to is None or not granted:
        return None
    own = effective_settings(await session.get(Store, store_id), defaults)
    return notice(row.id, store_id, own, to, SUBJECT, reward_text(granted))


async def release_referral_notice(session: AsyncSession, referral_id: str) -> None:
    """The provider surely did not take it (an outage): hand it over again on a retry."""
    await session.execute(
        update(Referral).where(Referral.id == referral_id).values(notified_at=None)
    )
