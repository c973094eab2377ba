"""Activities of the recovery flows: thin wrappers that open transactions and call services."""

import logging
from typing import NoReturn

from sqlalchemy.exc import InterfaceError, OperationalError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from flow_contract import (
    STEP_MAX_ATTEMPTS,
    MessageStatus,
    RunClosed,
    RunStep,
    StepOutcome,
    StepRequest,
)
from integrations.messaging import (
    AmbiguousSendError,
    MessageProvider,
    PermanentSendError,
    provider_for,
)
from models.database import SessionMaker, autocommit_sessionmaker
from services.events.log import close_run
from services.messaging.flows import PinnedFlows
from services.messaging.sending import (
    PreparedSend,
    prepare_send,
    record_refusal,
    record_sent,
    record_step_error,
    record_unknown,
    release_send,
)
from services.messaging.steps import decide_step
from services.messaging.templates import TemplateRenderer
from services.stores.settings import StoreDefaults, as_defaults

log = logging.getLogger("shopstar.activities")
# Failures of the way to the database or the network: worth retrying. Anything else raised
# while deciding or preparing a step (a number out of range, a bug) fails the same way again.
TRANSIENT = (OperationalError, InterfaceError, OSError, TimeoutError)


class FlowActivities:
    def __init__(
        self,
        sessionmaker: SessionMaker,
        provider: MessageProvider,
        defaults: StoreDefaults | str,
        renderer: TemplateRenderer | None = None,
    ) -> None:
        """`defaults`: what a store without its own settings sends with (a bare string is the
        storefront URL alone)."""
        self._sessionmaker = sessionmaker
        # For the one-statement writes: the provider's answer, the run closed.
        self._single = autocommit_sessionmaker(sessionmaker)
        self._provider = provider
        self._defaults = as_defaults(defaults)
        self._renderer = renderer
        self.flows = PinnedFlows()

    @activity.defn
    async def run_flow_step(self, step: RunStep) -> StepOutcome:
        """Gate and send one step, the gate and the send's first write in one transaction. Run
        as a local activity: a step costs the worker one task and the history one marker. The
        run names its pinned flow version; its config comes from the process's cache."""
        config = await self.flows.get(
            self._sessionmaker, step.store_id, step.flow, step.flow_version
        )
        req = StepRequest.of(step, config)
        sender = provider_for(self._provider, req.channel)
        try:
            async with self._sessionmaker.begin() as session:
                verdict = await decide_step(session, req)
                if verdict.reason is not None:
                    return StepOutcome(MessageStatus.SUPPRESSED, verdict.reason)
                if verdict.hold_until is not None:
                    return StepOutcome(MessageStatus.PENDING, hold_until=verdict.hold_until)
                assert verdict.rows is not None  # neither a "no" nor a hold: it goes
                prepared = await prepare_send(
                    session, req, verdict.rows, sender.name, self._defaults, self._renderer
                )
        except Exception as exc:
            await self._fail_for_good(req, sender.name, exc)
        return await self._hand_over(req, sender, prepared)

    async def _fail_for_good(self, ctx: StepRequest, provider: str, exc: Exception) -> NoReturn:
        """A gate or preparation error that would fail again, or the last attempt: the step
        fails once, with the reason on its message-log row, and the run goes on."""
        last = activity.info().attempt >= STEP_MAX_ATTEMPTS
        if isinstance(exc, TRANSIENT) and not last:
            raise exc
        code = "retries_exhausted" if isinstance(exc, TRANSIENT) else "step_error"
        log.warning("flow step failed for good", exc_info=exc, extra={"code": code})
        reason = f"{type(exc).__name__}: {exc}"[:500] if not isinstance(exc, TRANSIENT) else code
        try:
            async with self._sessionmaker.begin() as session:
                await record_step_error(session, ctx, provider, code, reason)
        except Exception:
            log.warning("the step's failure could not be recorded", exc_info=True)
        raise ApplicationError(
            f"step {ctx.step} failed: {code}", code, type="StepError", non_retryable=True
        ) from exc

    async def _hand_over(
        self, ctx: StepRequest, sender: MessageProvider, prepared: PreparedSend
    ) -> StepOutcome:
        """The provider call, outside any transaction, and its answer recorded."""
        failure = prepared.failure
        if prepared.message is not None:
            try:
                provider_id = await sender.send(prepared.message)
            except PermanentSendError as refusal:
                async with self._sessionmaker.begin() as session:
                    await record_refusal(session, ctx, prepared.message, refusal, sender.name)
                failure = refusal
            except AmbiguousSendError:
                # Maybe accepted: never sent again, so the step ends here (no retry).
                async with self._sessionmaker.begin() as session:
                    await record_unknown(session, prepared.message_id)
                return StepOutcome(MessageStatus.UNKNOWN, message_id=prepared.message_id)
            except Exception:
                async with self._sessionmaker.begin() as session:
                    await release_send(session, prepared.message_id)
                raise  # transient: Temporal retries with backoff
            else:
                async with self._single() as session:
                    await record_sent(session, prepared.message_id, provider_id)
                return StepOutcome(MessageStatus.SENT, message_id=prepared.message_id)
        if failure is not None:
            # Raised only once the failed row (and any consent change) is committed.
            raise ApplicationError(
                f"message {prepared.message_id} failed: {failure}",
                prepared.message_id,
                failure.code,
                type="TemplateError" if failure.code == "template_error" else "PermanentSendError",
                non_retryable=True,
            )
        assert prepared.status != "ready"
        return StepOutcome(prepared.status, message_id=prepared.message_id)

    @activity.defn
    async def close_recovery_run(self, req: RunClosed) -> None:
        """The run ended: the relay stops routing the customer's orders to it."""
        async with self._single() as session:  # one statement: it commits on its own
            await close_run(session, req.store_id, req.workflow_id, req.outcome)
