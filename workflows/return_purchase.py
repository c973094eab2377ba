"""Return purchase: after an order (and the flow's delay), the customer gets a one-off code for
the next purchase. A cancelled or refunded order, or erasure, suppresses it."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from flow_contract import CustomerErased, FlowKind, RunEnding, RunStep
    from workflows.sequence import FlowSequence
    from workflows.types import ReturnPurchaseInput, RunState


@workflow.defn
class ReturnPurchaseWorkflow:
    @workflow.init
    def __init__(self, inp: ReturnPurchaseInput) -> None:
        self._seq = FlowSequence(inp.state or RunState(run_key="", customer_id=inp.customer_id))

    @workflow.signal(name=CustomerErased.SIGNAL)
    def customer_erased(self, _: CustomerErased) -> None:
        self._seq.end(RunEnding.ERASED)

    @workflow.run
    async def run(self, inp: ReturnPurchaseInput) -> str:
        def request(step: int) -> RunStep:
            return RunStep(
                store_id=inp.store_id,
                workflow_id=workflow.info().workflow_id,
                run_key=self._seq.state.run_key,
                flow=FlowKind.RETURN_PURCHASE,
                flow_version=inp.flow_version,
                step=step,
                customer_id=inp.customer_id,
                cart_id=None,
                order_id=inp.order_id,
            )

        # Nothing signals this run often: it never needs to continue as new.
        return await self._seq.run(inp.plan, request, lambda: False, lambda: None)
