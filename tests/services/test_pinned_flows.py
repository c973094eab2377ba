"""A run's steps read their flow by the version the run pinned: the version saved then, whatever
staff saved since, read from PostgreSQL once per worker process."""

import httpx
from sqlalchemy import delete

from flow_contract import FlowKind
from models import FlowVersion
from models.database import SessionMaker
from services.messaging.flow_config import default_flow
from services.messaging.flows import PinnedFlows
from tests.conftest import StoreKeys
from tests.workflows.journey import TWO_STEP_FLOW, enable_flow

CART = FlowKind.ABANDONED_CART


async def test_a_step_reads_the_pinned_version_not_a_later_one(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    await enable_flow(api, store, TWO_STEP_FLOW)
    await enable_flow(api, store, {**TWO_STEP_FLOW, "enabled": False})
    flows = PinnedFlows()
    first = await flows.get(sessionmaker, store.id, CART, 1)
    assert first.enabled and len(first.steps) == 2
    assert not (await flows.get(sessionmaker, store.id, CART, 2)).enabled
    # Versions never change: the second read is the process's copy (the row is not read again).
    async with sessionmaker.begin() as session:
        await session.execute(delete(FlowVersion).where(FlowVersion.store_id == store.id))
    assert await flows.get(sessionmaker, store.id, CART, 1) == first


async def test_version_0_is_the_default_and_an_unknown_version_is_an_error(
    store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    flows = PinnedFlows(size=1)
    assert await flows.get(sessionmaker, store.id, CART, 0) == default_flow(CART)
    try:
        await flows.get(sessionmaker, store.id, CART, 7)
    except LookupError as err:
        assert "7" in str(err)
    else:
        raise AssertionError("an unknown version must not pass")
