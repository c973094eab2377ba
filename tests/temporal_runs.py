"""Every run a test starts, remembered so that the test's worker can end them when it stops.

Each Temporal test has a task queue and a worker of its own (the samples' habit). A run can
outlive its test (a timer a day out); once its worker is gone nobody would poll its queue, and
such a run holds the shared time-skipping server's clock for every later test. So a test's worker,
when it stops, terminates what was started meanwhile (tests run one at a time)."""

import contextlib
from typing import Any

from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
    StartWorkflowInput,
    WorkflowHandle,
)
from temporalio.service import RPCError


class StartedRuns(Interceptor):
    """A client interceptor: the ids of the runs started through the client."""

    def __init__(self) -> None:
        self.workflow_ids: list[str] = []

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _Remember(next, self)

    async def end_all(self, client: Client) -> None:
        """Terminate every run started since the last call (those already closed answer
        NOT_FOUND or FAILED_PRECONDITION, which is fine)."""
        ids, self.workflow_ids = self.workflow_ids, []
        for workflow_id in dict.fromkeys(ids):
            with contextlib.suppress(RPCError):
                await client.get_workflow_handle(workflow_id).terminate(reason="test over")


class _Remember(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, runs: StartedRuns) -> None:
        super().__init__(next)
        self._runs = runs

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        handle = await super().start_workflow(input)
        self._runs.workflow_ids.append(input.id)
        return handle
