"""A deliberately changed copy of the abandoned-cart workflow, for the negative replay test. In a
module of its own: the workflow sandbox re-imports the module a workflow is defined in."""

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.flow_steps import FlowActivities
    from flow_contract import RunClosed
    from workflows.abandoned_cart import AbandonedCartWorkflow
    from workflows.types import AbandonedCartInput


@workflow.defn(name="AbandonedCartWorkflow")
class ChangedAbandonedCartWorkflow(AbandonedCartWorkflow):
    """The workflow with one unpatched change: a local activity before the run's first wait.
    (An extra timer alone would not do: a replayed timer's duration is not compared, and the
    recorded first timer would stand in for it.)"""

    @workflow.run
    async def run(self, inp: AbandonedCartInput) -> str:
        await workflow.execute_local_activity_method(
            FlowActivities.close_recovery_run,
            RunClosed(store_id=inp.store_id, workflow_id="changed", outcome="changed"),
            start_to_close_timeout=timedelta(seconds=5),
        )
        return await super().run(inp)
