"""Abandoned-cart recovery: wait for the cart to go quiet, then run the flow's steps at their
delays, re-checking the store's data right before each send. An order ends the run at once."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from flow_contract import (
        CartActivity,
        CustomerErased,
        FlowKind,
        OrderCompleted,
        RunEnding,
        RunStep,
    )
    from workflows.sequence import FlowSequence
    from workflows.types import AbandonedCartInput, CartRunState


@workflow.defn
class AbandonedCartWorkflow:
    @workflow.init
    def __init__(self, inp: AbandonedCartInput) -> None:
        # Built from the input before any signal is applied, so a signal that arrives with the
        # first task of a continued run lands on the carried-over state.
        state = inp.state or CartRunState(run_key="", customer_id=inp.customer_id)
        self._seq = FlowSequence(state)

    @workflow.signal(name=CartActivity.SIGNAL)
    def cart_updated(self, update: CartActivity) -> None:
        """Cart activity restarts the inactivity window; an empty cart ends the run."""
        if not self._seq.is_new(update.event_id, update.seq):
            return
        state = self._seq.state
        state.customer_id = update.customer_id or state.customer_id
        self._seq.restart_wait(update.waited_seconds)
        if update.item_count == 0:
            self._seq.end(RunEnding.CANCELLED)

    @workflow.signal(name=OrderCompleted.SIGNAL)
    def order_placed(self, order: OrderCompleted) -> None:
        """The customer bought: every pending step is cancelled."""
        self._seq.end(RunEnding.CONVERTED, order.order_id)

    @workflow.signal(name=CustomerErased.SIGNAL)
    def customer_erased(self, _: CustomerErased) -> None:
        """GDPR erasure: nothing more is sent to this customer."""
        self._seq.end(RunEnding.ERASED)

    @workflow.run
    async def run(self, inp: AbandonedCartInput) -> str:
        def request(step: int) -> RunStep:
            return RunStep(
                store_id=inp.store_id,
                workflow_id=workflow.info().workflow_id,
                run_key=self._seq.state.run_key,
                flow=FlowKind.ABANDONED_CART,
                flow_version=inp.flow_version,
                step=step,
                customer_id=self._seq.state.customer_id,
                cart_id=inp.cart_id,
            )

        def continue_as_new() -> None:
            workflow.continue_as_new(
                AbandonedCartInput(
                    store_id=inp.store_id,
                    cart_id=inp.cart_id,
                    customer_id=inp.customer_id,
                    flow_version=inp.flow_version,
                    plan=inp.plan,
                    state=self._seq.state,
                    signals_per_run=inp.signals_per_run,
                )
            )

        return await self._seq.run(
            inp.plan,
            request,
            lambda: self._seq.wants_new_run(inp.signals_per_run),
            continue_as_new,
        )
