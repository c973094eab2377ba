"""At most once, also when the provider does not answer: a send whose request reached the fake
provider but got no answer (it stalls past the client's timeout, or closes the connection) is
`unknown`, never sent again, and settled by the provider's signed callback; a send that never
reached it (connection refused) is retried and goes out once."""

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from temporalio.testing import ActivityEnvironment

from activities.flow_steps import FlowActivities
from api.main import create_app
from config import Settings
from devstack.fake_providers import Callback, FakeProviders
from devstack.temporal import restartable_port
from flow_contract import FlowConfig, FlowKind, StepOutcome, StepRequest
from integrations.messaging import TransientSendError
from models.database import SessionMaker
from tests.conftest import StoreKeys
from tests.integrations.rows import add_customer, message_row
from worker import message_provider

PUBLIC = "https://engine.test"
TEMPLATES = {
    "email": {"subject": "Your cart", "body": "Still there? {{ link }}"},
    "sms": {"body": "Still there? {{ link }}"},
}


@pytest.fixture
def fake() -> Iterator[FakeProviders]:
    providers = FakeProviders().start()
    yield providers
    providers.stop()


def sending_settings(settings: Settings, fake: FakeProviders) -> Settings:
    """Both providers at the fake, deployed behind PUBLIC, with a client timeout of 1 s."""
    return settings.model_copy(
        update={
            **fake.settings(),
            "public_base_url": PUBLIC + "/",
            "provider_timeout_seconds": 1.0,
        }
    )


@pytest.fixture
async def engine(settings: Settings, fake: FakeProviders) -> AsyncIterator[httpx.AsyncClient]:
    """The api configured like the worker, so it checks the fake's signatures."""
    app = create_app(sending_settings(settings, fake))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api:8000") as client:
            yield client


def step(store_id: str, channel: str) -> StepRequest:
    config = FlowConfig.model_validate(
        {
            "enabled": True,
            "steps": [{"delay_seconds": 0, "channel": channel, "template": TEMPLATES[channel]}],
        }
    )
    return StepRequest(
        store_id=store_id,
        workflow_id=f"cart:{store_id}:k_1",
        run_key="r1",
        flow=FlowKind.ABANDONED_CART,
        flow_version=1,
        step=0,
        customer_id="c_1",
        cart_id=None,
        flow_config=config,
    )


async def send(activities: FlowActivities, request: StepRequest) -> StepOutcome:
    """One attempt of the step's activity: the gate, then the send (the run's pinned flow
    version is the request's config, as if read from the database)."""
    activities.flows.remember(request.store_id, request.flow, 1, request.flow_config)
    result: StepOutcome = await ActivityEnvironment().run(activities.run_flow_step, request)
    return result


async def run_step(activities: FlowActivities, request: StepRequest) -> StepOutcome | None:
    """The step as Temporal runs it: a transient failure is retried (here at once, 3 tries)."""
    for _attempt in range(3):
        try:
            return await send(activities, request)
        except TransientSendError:
            continue
    return None


def provider_report(fake: FakeProviders, channel: str) -> Callback:
    if channel == "email":
        return fake.sendgrid_events(f"{PUBLIC}/v1/webhooks/sendgrid/events")
    (callback,) = fake.twilio_status_callbacks("delivered")
    return callback


@pytest.mark.parametrize("channel", ["email", "sms"])
@pytest.mark.parametrize("no_answer", ["stall", "close"])
async def test_a_send_without_an_answer_is_unknown_never_repeated_then_settled(
    settings: Settings,
    sessionmaker: SessionMaker,
    store: StoreKeys,
    fake: FakeProviders,
    engine: httpx.AsyncClient,
    channel: str,
    no_answer: str,
) -> None:
    await add_customer(sessionmaker, store.id)
    if no_answer == "stall":
        fake.stall_seconds = 30  # the client gives up after 1 s; stop() ends the wait
    else:
        fake.close_without_answer = True
    activities = FlowActivities(
        sessionmaker, message_provider(sending_settings(settings, fake)), "https://shop.test"
    )
    request = step(store.id, channel)

    first = await run_step(activities, request)
    assert fake.count() == 1  # one message at the provider, however the step ended
    assert first is not None and first.status == "unknown" and first.message_id
    # Running the step again (a retry after a lost completion, a replay) sends nothing.
    again = await send(activities, request)
    assert (again.message_id, again.status) == (first.message_id, "unknown")
    assert fake.message_ids() == {first.message_id: 1}
    listed = await engine.get("/v1/messages", params={"status": "unknown"}, headers=store.auth())
    assert [m["id"] for m in listed.json()["items"]] == [first.message_id]
    row = await message_row(sessionmaker, first.message_id)
    assert row.provider_message_id is None  # the answer with the provider's id never came

    # The provider reports the delivery, signed, to the URL it was given.
    report = provider_report(fake, channel)
    response = await engine.post(report.path, content=report.body, headers=report.headers)
    assert response.is_success, response.text
    row = await message_row(sessionmaker, first.message_id)
    assert row.status == "delivered"
    if channel == "sms":  # the SID is learnt from the callback
        assert row.provider_message_id == fake.text_sids[0]
    assert fake.message_ids() == {first.message_id: 1}


@pytest.mark.parametrize("channel", ["email", "sms"])
async def test_a_refused_connection_is_retried_and_sent_once(
    settings: Settings, sessionmaker: SessionMaker, store: StoreKeys, channel: str
) -> None:
    await add_customer(sessionmaker, store.id)
    # Not listening yet: every connection is refused (it starts on it later: restartable_port).
    fake = FakeProviders(port=restartable_port())
    activities = FlowActivities(
        sessionmaker, message_provider(sending_settings(settings, fake)), "https://shop.test"
    )
    request = step(store.id, channel)
    with pytest.raises(TransientSendError):
        await send(activities, request)
    fake.start()
    try:
        result = await send(activities, request)  # Temporal's retry, now that it is up
        assert result.status == "sent" and result.message_id
        assert fake.message_ids() == {result.message_id: 1}
        row = await message_row(sessionmaker, result.message_id)
        assert row.status == "sent" and row.provider_message_id
    finally:
        fake.stop()
