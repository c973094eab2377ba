"""Activities of the recovery flows: thin wrappers that open one transaction and call services."""

from temporalio import activity
from temporalio.exceptions import ApplicationError

from integrations.messaging import MessageProvider
from models.database import SessionMaker
from services.event_log import close_run
from services.flow_messages import StepContext, decide_step, send_step
from workflows.types import GateDecision, RunClosed, SendResult, StepRequest


def _context(req: StepRequest) -> StepContext:
    return StepContext(
        store_id=req.store_id,
        workflow_id=req.workflow_id,
        run_key=req.run_key,
        flow=req.flow,
        step=req.step,
        customer_id=req.customer_id,
        cart_id=req.cart_id,
        config=req.flow_config,
        product_id=req.product_id,
        order_id=req.order_id,
        now=req.now,
    )


class FlowActivities:
    def __init__(
        self, sessionmaker: SessionMaker, provider: MessageProvider, storefront_url: str
    ) -> None:
        self._sessionmaker = sessionmaker
        self._provider = provider
        self._storefront_url = storefront_url

    @activity.defn
    async def check_send_gate(self, req: StepRequest) -> GateDecision:
        """Re-check the store's data right before a send; a "no" is logged with its reason."""
        async with self._sessionmaker.begin() as session:
            verdict = await decide_step(session, _context(req))
        return GateDecision(
            send=verdict.reason is None and verdict.hold_until is None,
            reason=verdict.reason,
            hold_until=verdict.hold_until,
        )

    @activity.defn
    async def send_flow_message(self, req: StepRequest) -> SendResult:
        """Render and send one step, once per idempotency key."""
        async with self._sessionmaker.begin() as session:
            outcome = await send_step(session, _context(req), self._provider, self._storefront_url)
        # Raised only now that the failed row (and any consent change) is committed.
        if outcome.failure is not None:
            raise ApplicationError(
                f"provider refused message {outcome.message_id}: {outcome.failure}",
                outcome.message_id,
                outcome.failure.code,
                type="PermanentSendError",
                non_retryable=True,
            )
        return SendResult(message_id=outcome.message_id, status=outcome.status)

    @activity.defn
    async def close_recovery_run(self, req: RunClosed) -> None:
        """The run ended: the relay stops routing the customer's orders to it."""
        async with self._sessionmaker.begin() as session:
            await close_run(session, req.store_id, req.workflow_id, req.outcome)
