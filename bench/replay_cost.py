"""What a run costs the worker when it is not in the worker's cache, and what the sandbox adds:
a recorded 3-step history (tests/workflows/histories) replayed in process, with the sandbox as
the worker runs it and without it (`UnsandboxedWorkflowRunner`, the baseline). An evicted run
replays like this at its next step: a new workflow instance (a new sandbox) and every workflow
task of its history again. Also the memory a cached run holds: N runs started and kept waiting
in one worker (the cache holds them), RSS before and after.

`.venv/bin/python -m bench.replay_cost [--replays 300] [--cached 2000]`"""

import argparse
import asyncio
import compileall
import gc
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import psutil  # type: ignore[import-untyped]
from rich.console import Console
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

import workflows
from bench.report import Report, publish
from bench.stack import running_temporal
from flow_contract import FlowPlan
from temporal_payloads import data_converter
from worker import PASSTHROUGH, WORKFLOWS, workflow_runner
from workflows.abandoned_cart import AbandonedCartWorkflow
from workflows.types import AbandonedCartInput

console = Console()
HISTORY = Path(__file__).parent.parent / "tests/workflows/histories/abandoned_cart_sent.json"
WEEK = 7 * 86400


def workflow_tasks(history: WorkflowHistory) -> int:
    done = EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    return sum(1 for e in history.events if e.event_type == done)


async def replay_cpu(runner: WorkflowRunner, history: WorkflowHistory, replays: int) -> float:
    """CPU milliseconds per replayed run (each replay: a new instance, all its tasks)."""
    replayer = Replayer(workflows=WORKFLOWS, data_converter=data_converter, workflow_runner=runner)
    histories = [
        WorkflowHistory(f"{history.workflow_id}-{i}", history.events) for i in range(replays)
    ]
    for warm in histories[:5]:  # imports and caches warm
        await replayer.replay_workflow(warm)
    began = time.process_time()
    async with replayer.workflow_replay_iterator(_each(histories)) as results:
        async for result in results:
            assert result.replay_failure is None, result.replay_failure
    return (time.process_time() - began) * 1000 / replays


async def _each(histories: list[WorkflowHistory]) -> AsyncIterator[WorkflowHistory]:
    for history in histories:
        yield history


async def cached_run_bytes(runs: int) -> tuple[float, float]:
    """RSS per run held in the worker's cache, sandboxed: `runs` runs that wait a week.
    Returns (bytes per cached run, CPU ms per run start as the worker saw it)."""
    with tempfile.TemporaryDirectory(prefix="shopstar-bench-replay-") as folder:
        async with running_temporal(Path(folder), "memory") as server:
            client = await Client.connect(server.address, data_converter=data_converter)
            return await _cached(client, runs)


async def _cached(client: Client, runs: int) -> tuple[float, float]:
    queue = f"replay-cost-{uuid.uuid4().hex[:8]}"
    process = psutil.Process()
    plan = FlowPlan(WEEK, [0, 5, 5])
    async with Worker(
        client,
        task_queue=queue,
        workflows=[AbandonedCartWorkflow],
        workflow_runner=workflow_runner(),
        max_cached_workflows=runs + 10,
    ):
        gc.collect()
        before, cpu0 = process.memory_info().rss, time.process_time()
        limit = asyncio.Semaphore(64)

        async def start(i: int) -> None:
            async with limit:
                handle = await client.start_workflow(
                    AbandonedCartWorkflow.run,
                    AbandonedCartInput("st_bench", f"k{i}", f"c{i}", 1, plan),
                    id=f"cart:{queue}:{i}",
                    task_queue=queue,
                )
                await handle.query("__stack_trace")  # the first task done: the run is cached

        await asyncio.gather(*(start(i) for i in range(runs)))
        gc.collect()
        after, cpu = process.memory_info().rss, time.process_time() - cpu0
    return (after - before) / runs, cpu * 1000 / runs


async def run(replays: int, cached: int) -> Report:
    report = Report(name="replay_cost", title="A run out of the worker's cache, and the sandbox")
    history = WorkflowHistory.from_json("cart", HISTORY.read_text())
    tasks = workflow_tasks(history)
    sandboxed = await replay_cpu(workflow_runner(), history, replays)
    default = await replay_cpu(SandboxedWorkflowRunner(), history, replays)
    # Not kept: the workflow modules passed through too (no re-import per run, but the sandbox
    # then checks nothing of our workflow code).
    everything = SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH, "workflows")
    lenient = await replay_cpu(SandboxedWorkflowRunner(restrictions=everything), history, replays)
    bare = await replay_cpu(UnsandboxedWorkflowRunner(), history, replays)
    report.add(
        "replay of a 3-step run (sandbox, as the worker runs it)",
        f"{sandboxed:.2f} ms CPU",
        f"{len(history.events)} events, {tasks} workflow tasks",
    )
    report.add("the same, the SDK's default sandbox (no passthrough)", f"{default:.2f} ms CPU")
    report.add(
        "the same, the workflow modules passed through too (not kept)", f"{lenient:.2f} ms CPU"
    )
    report.add("the same without the sandbox (baseline)", f"{bare:.2f} ms CPU")
    report.add(
        "the sandbox's cost per workflow task (replayed)",
        f"{(sandboxed - bare) / tasks:.2f} ms",
        f"{(sandboxed - bare):.2f} ms per run, most of it the new sandbox",
    )
    if cached:
        per_run, start_cpu = await cached_run_bytes(cached)
        report.add(
            "worker memory per cached run (sandboxed)",
            f"{per_run / 1024:.0f} KiB",
            f"{cached:,} runs waiting in one worker",
        )
        report.add("worker CPU per run start (first task)", f"{start_cpu:.2f} ms")
        report.data.update(cached_run_bytes=per_run, start_cpu_ms=start_cpu)
    report.data.update(
        replays=replays,
        sandboxed_ms=sandboxed,
        default_ms=default,
        lenient_ms=lenient,
        bare_ms=bare,
        tasks=tasks,
    )
    return report


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.replay_cost", description=__doc__)
    parser.add_argument("--replays", type=int, default=300)
    parser.add_argument("--cached", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="50 replays, 500 runs cached")
    args = parser.parse_args()
    replays, cached = (50, 500) if args.quick else (args.replays, args.cached)
    # The workflow modules' bytecode, as the image has it (Dockerfile): the sandbox imports them
    # anew for every run, and without a .pyc compiles their source each time.
    compileall.compile_dir(Path(workflows.__file__).parent, quiet=1)
    publish(asyncio.run(run(replays, cached)), console)


if __name__ == "__main__":
    cli()
