"""Browse reminder: a product view starts a wait; further views change the product to remind of
and restart the wait; adding to the cart or ordering cancels; then the flow's message about the
viewed product goes out."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from flow_contract import (
        CartActivity,
        CustomerErased,
        FlowKind,
        OrderCompleted,
        ProductView,
        RunEnding,
        RunStep,
    )
    from workflows.sequence import FlowSequence
    from workflows.types import BrowseReminderInput, RunState


@workflow.defn
class BrowseReminderWorkflow:
    @workflow.init
    def __init__(self, inp: BrowseReminderInput) -> None:
        state = inp.state or RunState(
            run_key="", customer_id=inp.customer_id, product_id=inp.product_id
        )
        self._seq = FlowSequence(state)

    @workflow.signal(name=ProductView.SIGNAL)
    def product_viewed(self, view: ProductView) -> None:
        """Another view: remind of the newest product, a full wait after it."""
        if self._seq.is_new(view.event_id, view.seq) and self._seq.state.sent_steps == 0:
            self._seq.state.product_id = view.product_id
            self._seq.restart_wait(view.waited_seconds)

    @workflow.signal(name=CartActivity.SIGNAL)
    def cart_updated(self, update: CartActivity) -> None:
        """The customer added to the cart: the cart's own flow takes over."""
        if update.item_count > 0:
            self._seq.end(RunEnding.CANCELLED)

    @workflow.signal(name=OrderCompleted.SIGNAL)
    def order_placed(self, order: OrderCompleted) -> None:
        self._seq.end(RunEnding.CONVERTED, order.order_id)

    @workflow.signal(name=CustomerErased.SIGNAL)
    def customer_erased(self, _: CustomerErased) -> None:
        self._seq.end(RunEnding.ERASED)

    @workflow.run
    async def run(self, inp: BrowseReminderInput) -> str:
        def request(step: int) -> RunStep:
            return RunStep(
                store_id=inp.store_id,
                workflow_id=workflow.info().workflow_id,
                run_key=self._seq.state.run_key,
                flow=FlowKind.BROWSE_REMINDER,
                flow_version=inp.flow_version,
                step=step,
                customer_id=inp.customer_id,
                cart_id=None,
                product_id=self._seq.state.product_id,
            )

        def continue_as_new() -> None:
            workflow.continue_as_new(
                BrowseReminderInput(
                    store_id=inp.store_id,
                    customer_id=inp.customer_id,
                    product_id=inp.product_id,
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
