"""A shopper's own STOP or unsubscribe outranks an older consent from the platform."""

from datetime import UTC, datetime, timedelta

import httpx

from models import Customer
from models.database import SessionMaker
from services.messaging.consent import set_consent_by_phone
from tests.conftest import StoreKeys, event
from tests.workflows.journey import post


def upsert(at: datetime, sms: bool) -> dict[str, object]:
    data = {"customer_id": "c_1", "phone": "+14155550123", "consent": {"sms": sms, "email": True}}
    return event("customer.upserted", data, at=at.isoformat())


async def sms_consent(sessionmaker: SessionMaker, store_id: str) -> bool:
    async with sessionmaker() as session:
        customer = await session.get(Customer, (store_id, "c_1"))
        assert customer is not None
        return customer.consent_sms


async def test_an_opt_out_survives_an_older_platform_upsert_but_not_a_newer_one(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    now = datetime.now(UTC)
    await post(api, store, upsert(now - timedelta(minutes=10), sms=True))
    async with sessionmaker.begin() as session:
        assert await set_consent_by_phone(session, store.id, "+1 415-555-0123", "sms", False) == 1
    # The platform replays what it knew a minute ago: the STOP stands.
    await post(api, store, upsert(now - timedelta(minutes=1), sms=True))
    assert await sms_consent(sessionmaker, store.id) is False
    # The shopper opts in again on the platform later: that counts.
    await post(api, store, upsert(now + timedelta(minutes=1), sms=True))
    assert await sms_consent(sessionmaker, store.id) is True
