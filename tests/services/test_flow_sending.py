"""At most once per step: the send path's three transactions, with a worker dying in between."""

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from flow_contract import FlowConfig, FlowKind, StepRequest
from integrations.messaging import PermanentSendError
from models import Customer, Message
from models.database import SessionMaker
from services.messaging.sending import (
    PreparedSend,
    prepare_send,
    record_refusal,
    record_sent,
    release_send,
)
from services.messaging.steps import decide_step
from tests.conftest import StoreKeys
from tests.workflows.journey import TWO_STEP_FLOW, cart, post, product, shopper


def context(store_id: str, run_key: str = "r1", step: int = 0) -> StepRequest:
    return StepRequest(
        store_id=store_id,
        workflow_id=f"cart:{store_id}:k_1",
        run_key=run_key,
        flow=FlowKind.ABANDONED_CART,
        flow_version=1,
        step=step,
        customer_id="c_1",
        cart_id="k_1",
        flow_config=FlowConfig.model_validate(TWO_STEP_FLOW),
    )


async def prepare(session: AsyncSession, ctx: StepRequest, provider: str = "log") -> PreparedSend:
    """The step's first transaction, as the activity runs it: the gate, then the send given
    the rows the gate read."""
    verdict = await decide_step(session, ctx)
    assert verdict.rows is not None, verdict
    return await prepare_send(session, ctx, verdict.rows, provider, "https://shop.test")


async def status(sessionmaker: SessionMaker, message_id: str) -> tuple[str, str | None]:
    async with sessionmaker() as session:
        row = await session.get(Message, message_id)
        assert row is not None
        return row.status, row.provider_message_id


async def test_a_retry_after_a_death_during_the_call_does_not_send_again(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    await post(api, store, shopper(), product(), cart())
    async with sessionmaker.begin() as session:
        first = await prepare(session, context(store.id))
    assert first.status == "ready" and first.message is not None
    assert first.message.subject == "Your cart"
    # The worker dies while the provider answers: nothing recorded the answer.
    async with sessionmaker.begin() as session:
        retry = await prepare(session, context(store.id))
    assert (retry.message_id, retry.status, retry.message) == (first.message_id, "sent", None)
    assert await status(sessionmaker, first.message_id) == ("sent", None)


async def test_a_transient_failure_is_sent_again_and_recorded_once(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    await post(api, store, shopper(), product(), cart())
    async with sessionmaker.begin() as session:
        first = await prepare(session, context(store.id))
    async with sessionmaker.begin() as session:
        await release_send(session, first.message_id)
    async with sessionmaker.begin() as session:
        again = await prepare(session, context(store.id))
    assert again.status == "ready" and again.message_id == first.message_id
    async with sessionmaker.begin() as session:
        await record_sent(session, again.message_id, "prov-1")
    async with sessionmaker.begin() as session:
        done = await prepare(session, context(store.id))
    assert (done.status, done.message) == ("sent", None)
    assert await status(sessionmaker, first.message_id) == ("sent", "prov-1")


async def test_a_refusal_fails_the_step_and_withdraws_consent_on_opt_out(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    await post(api, store, shopper(), product(), cart())
    ctx = context(store.id, step=1)  # the SMS step
    async with sessionmaker.begin() as session:
        prepared = await prepare(session, ctx, "twilio")
    assert prepared.message is not None
    refusal = PermanentSendError("21610", "recipient unsubscribed", withdraws_consent=True)
    async with sessionmaker.begin() as session:
        await record_refusal(session, ctx, prepared.message, refusal, "twilio")
    async with sessionmaker.begin() as session:
        retry = await prepare(session, ctx, "twilio")
    assert retry.status == "failed" and retry.failure is not None
    assert retry.failure.code == "21610"
    async with sessionmaker() as session:
        customer = await session.get(Customer, (store.id, "c_1"))
    assert customer is not None and customer.consent_sms is False and customer.consent_email
