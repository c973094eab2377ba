"""Every run a test starts, ended when the test's worker stops.

Each Temporal test has a task queue and a worker of its own (the samples' habit). A run can
outlive its test (a timer a day out); once its worker is gone nobody would poll its queue, and
such a run holds the shared time-skipping server's clock for every later test. So a test's worker,
when it starts and when it stops, terminates every run still open on the server (tests run one at
a time): those started through the client (remembered here) and any other (a continued run, a run
started by a client this interceptor never saw), found by listing the open ones."""

import contextlib
from typing import Any

from temporalio.api.workflowservice.v1 import ListOpenWorkflowExecutionsRequest
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
        """Terminate every run started since the last call and every run still open (those
        already closed answer NOT_FOUND or FAILED_PRECONDITION, which is fine)."""
        ids, self.workflow_ids = self.workflow_ids, []
        ids += await _open_runs(client)
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


async def _open_runs(client: Client) -> list[str]:
    """The ids of the open runs (the time-skipping server lists them by this older call)."""
    ids: list[str] = []
    token = b""
    while True:
        page = await client.workflow_service.list_open_workflow_executions(
            ListOpenWorkflowExecutionsRequest(
                namespace=client.namespace, maximum_page_size=1000, next_page_token=token
            )
        )
        ids += [e.execution.workflow_id for e in page.executions]
        token = page.next_page_token
        if not token:
            return ids


# What the SDK raises when a long poll for the run's close comes back empty. The time-skipping
# (Java) test server answers a long poll that timed out with no event and no next page, where the
# real server sends a token to poll again (temporalio/sdk-dotnet#63, fixed there in #78).
NO_CLOSE_YET = "No completion event found"


async def result_of(handle: WorkflowHandle[Any, Any]) -> Any:
    """The run's result, polling again when the test server's long poll came back empty."""
    while True:
        try:
            return await handle.result()
        except RuntimeError as exc:
            if str(exc) != NO_CLOSE_YET:
                raise
