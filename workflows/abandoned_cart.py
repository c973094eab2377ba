"""Abandoned-cart recovery: wait for the cart to go quiet, then run the flow's steps at their
delays, re-checking the store's data right before each send. An order ends the run at once."""

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.flow_steps import FlowActivities
    from workflows.search_attributes import FLOW_OUTCOME, FLOW_STEP, ORDER_ID
    from workflows.types import (
        AbandonedCartInput,
        CartActivity,
        CartRunState,
        OrderCompleted,
        RunClosed,
        StepRequest,
    )

SEEN_IDS_KEPT = 256
# Reasons that end the run rather than skip one step.
ENDING_REASONS = {
    "converted": "converted",
    "cart_empty": "cancelled",
    "erased": "suppressed:erased",
}
STEP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5)
)
STEP_TIMEOUT = timedelta(seconds=60)


@workflow.defn
class AbandonedCartWorkflow:
    @workflow.init
    def __init__(self, inp: AbandonedCartInput) -> None:
        # Built from the input before any signal is applied, so a signal that arrives with the
        # first task of a continued run lands on the carried-over state.
        self._state = inp.state or CartRunState(run_key="", customer_id=inp.customer_id)
        self._order: OrderCompleted | None = None
        self._cleared = False
        self._changed = False
        self._signals = 0

    @workflow.signal(name="cart_updated")
    def cart_updated(self, update: CartActivity) -> None:
        """Cart activity restarts the inactivity window; an empty cart ends the run."""
        state = self._state
        if update.event_id in state.seen_event_ids or update.seq <= state.last_seq:
            return  # delivered twice, or older than what the run already saw
        state.seen_event_ids.append(update.event_id)
        del state.seen_event_ids[:-SEEN_IDS_KEPT]
        self._signals += 1
        state.last_seq = update.seq
        state.last_activity_at = workflow.now()
        state.customer_id = update.customer_id or state.customer_id
        self._cleared = update.item_count == 0
        self._changed = True

    @workflow.signal(name="order_placed")
    def order_placed(self, order: OrderCompleted) -> None:
        """The customer bought: every pending step is cancelled."""
        self._order = self._order or order

    @workflow.run
    async def run(self, inp: AbandonedCartInput) -> str:
        state = self._state
        if not state.run_key:
            state.run_key = str(workflow.uuid4())
        if state.last_activity_at is None:
            state.last_activity_at = workflow.now()
        while state.next_step < len(inp.flow.steps):
            due = self._due(inp)
            if await self._woken_before(due):
                if self._order is not None:
                    return await self._close(inp, "converted")
                if self._cleared:
                    return await self._close(inp, "cancelled")
                if self._should_continue_as_new(inp):
                    await workflow.wait_condition(workflow.all_handlers_finished)
                    workflow.continue_as_new(
                        AbandonedCartInput(
                            store_id=inp.store_id,
                            cart_id=inp.cart_id,
                            customer_id=inp.customer_id,
                            flow_version=inp.flow_version,
                            flow=inp.flow,
                            state=state,
                            signals_per_run=inp.signals_per_run,
                        )
                    )
                continue
            # The next step's delay counts from when this one was due, not from when its
            # activities finished.
            state.last_step_at = due
            ending = await self._run_step(inp)
            if ending is not None:
                return await self._close(inp, ending)
        if state.sent_steps:
            return await self._close(inp, "sent")
        return await self._close(inp, f"suppressed:{state.last_reason}")

    def _due(self, inp: AbandonedCartInput) -> datetime:
        """When the next step is due: a full inactivity window after the last cart activity,
        and the step's delay after the previous step (or after the cart went quiet)."""
        state = self._state
        assert state.last_activity_at is not None
        delay = timedelta(seconds=inp.flow.steps[state.next_step].delay_seconds)
        quiet_until = state.last_activity_at + timedelta(seconds=inp.flow.trigger_delay_seconds)
        if state.last_step_at is None:
            return quiet_until + delay
        return max(quiet_until, state.last_step_at + delay)

    async def _woken_before(self, due: datetime) -> bool:
        """Sleep until `due`; True when a signal (activity, order, clear) came first."""
        self._changed = False
        if self._order is not None or self._cleared:
            return True
        remaining = due - workflow.now()
        if remaining <= timedelta(0):
            return False
        try:
            await workflow.wait_condition(
                lambda: self._changed or self._order is not None, timeout=remaining
            )
        except TimeoutError:
            return False
        return True

    async def _run_step(self, inp: AbandonedCartInput) -> str | None:
        """Gate then send one step; returns the run's outcome when the gate ends the run."""
        state = self._state
        request = StepRequest(
            store_id=inp.store_id,
            workflow_id=workflow.info().workflow_id,
            run_key=state.run_key,
            flow="abandoned_cart",
            flow_version=inp.flow_version,
            step=state.next_step,
            customer_id=state.customer_id,
            cart_id=inp.cart_id,
            flow_config=inp.flow,
        )
        workflow.upsert_search_attributes([FLOW_STEP.value_set(state.next_step)])
        decision = await workflow.execute_activity_method(
            FlowActivities.check_send_gate,
            request,
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=STEP_RETRY,
        )
        state.next_step += 1
        if not decision.send:
            state.last_reason = decision.reason
            return ENDING_REASONS.get(decision.reason or "")
        await workflow.execute_activity_method(
            FlowActivities.send_flow_message,
            request,
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=STEP_RETRY,
        )
        state.sent_steps += 1
        return None

    async def _close(self, inp: AbandonedCartInput, outcome: str) -> str:
        updates = [FLOW_OUTCOME.value_set(outcome)]
        if self._order is not None:
            updates.append(ORDER_ID.value_set(self._order.order_id))
        workflow.upsert_search_attributes(updates)
        await workflow.execute_activity_method(
            FlowActivities.close_recovery_run,
            RunClosed(
                store_id=inp.store_id, workflow_id=workflow.info().workflow_id, outcome=outcome
            ),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=STEP_RETRY,
        )
        return outcome

    def _should_continue_as_new(self, inp: AbandonedCartInput) -> bool:
        return (
            workflow.info().is_continue_as_new_suggested() or self._signals >= inp.signals_per_run
        )
