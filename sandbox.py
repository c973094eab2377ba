"""The workflow sandbox, its glue code compiled once.

The SDK's sandbox enters a run by `exec` of a short source string: to create the run, for each
activation and for each payload's serialization context. Python compiles a string anew on every
`exec` (about 60 us each here, several per workflow task): about a tenth of the worker's CPU in
`bench.flows` (py-spy `--gil`). Here each of those strings is compiled once per process. What
runs, and every check of the sandbox, stay the SDK's own: only the compiling is shared.

It reaches one private name of the SDK (`_Instance`, whose `_run_code` does the `exec`); the
workflow tests and the replay tests run through it, so an SDK that changes it fails them.
"""

import functools
from types import CodeType
from typing import Any

from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox._runner import _Instance


@functools.lru_cache(maxsize=256)
def _compiled(source: str) -> CodeType:
    return compile(source, "<string>", "exec")


class _CompiledOnceInstance(_Instance):
    def _run_code(self, code: str, **extra_globals: Any) -> None:
        # `exec`, which the SDK calls with `code`, takes a code object as well as a string.
        super()._run_code(_compiled(code), **extra_globals)  # type: ignore[arg-type]


class CompiledOnceSandboxRunner(SandboxedWorkflowRunner):
    """`SandboxedWorkflowRunner`, with the glue it executes compiled once per process."""

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _CompiledOnceInstance(det, self.runner_class, self.restrictions)
