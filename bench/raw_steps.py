"""The baseline of the flows benchmark: the Temporal shape of a 3-step run with none of our work.

Each run is started with its search attributes, sleeps the trigger delay, then for each step
upserts `FlowStep`, runs a local activity that only counts the step, and sleeps the next delay;
then it upserts `FlowOutcome` and completes. No database, no provider, no relay. Steps per second
of this on the same server and in the same kind of worker (the engine's sandbox runner, the
engine's payload converter) is the most the engine could send."""

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    from bench.raw_run import RawRun
    from config import Settings
    from worker import workflow_runner
    from workflows.search_attributes import FLOW_KIND, FLOW_OUTCOME, FLOW_STEP, STORE_ID

STARTS_CONCURRENCY = 64


def shape_of(flow: dict[str, Any]) -> RawRun:
    """The timing of a flow as the api takes it (`trigger_delay_seconds`, steps' delays)."""
    delays = [float(step["delay_seconds"]) for step in flow["steps"]]
    return RawRun(float(flow["trigger_delay_seconds"]), delays)


class StepCounter:
    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.count = 0
        self.first: float | None = None
        self.last: float | None = None
        self.done = asyncio.Event()

    @activity.defn(name="raw_step")
    async def step(self, step: int) -> int:
        now = time.monotonic()
        self.first = self.first or now
        self.last = now
        self.count += 1
        if self.count >= self.expected:
            self.done.set()
        return step


@workflow.defn(name="RawSteps")
class RawSteps:
    @workflow.run
    async def run(self, run: RawRun) -> int:
        await workflow.sleep(run.trigger_delay_seconds)
        for step, delay in enumerate(run.step_delays_seconds):
            if step and delay:
                await workflow.sleep(delay)
            workflow.upsert_search_attributes([FLOW_STEP.value_set(step)])
            await workflow.execute_local_activity(
                "raw_step", step, start_to_close_timeout=timedelta(seconds=15)
            )
        workflow.upsert_search_attributes([FLOW_OUTCOME.value_set("sent")])
        return len(run.step_delays_seconds)


@dataclass
class RawResult:
    runs: int
    steps: int
    rate: float  # steps/s from the first step to the last
    start_seconds: float


async def raw_steps(client: Client, runs: int, run: RawRun, within_seconds: float) -> RawResult:
    """Start `runs` runs (64 starts at a time) in a worker of this process; wait for every step."""
    queue = f"raw-steps-{uuid.uuid4().hex[:8]}"
    expected = runs * len(run.step_delays_seconds)
    counter = StepCounter(expected)
    attributes = TypedSearchAttributes(
        [SearchAttributePair(STORE_ID, "raw"), SearchAttributePair(FLOW_KIND, "abandoned_cart")]
    )
    limit = asyncio.Semaphore(STARTS_CONCURRENCY)

    async def start(i: int) -> None:
        async with limit:
            await client.start_workflow(
                RawSteps.run,
                run,
                id=f"raw:{queue}:{i}",
                task_queue=queue,
                search_attributes=attributes,
            )

    cache = Settings.model_fields["worker_max_cached_workflows"].default  # as the engine's worker
    # The engine's sandbox, passing the run's input type through as the engine's are.
    async with Worker(
        client,
        task_queue=queue,
        workflows=[RawSteps],
        activities=[counter.step],
        max_cached_workflows=cache,
        workflow_runner=workflow_runner("bench.raw_run"),
    ):
        began = time.monotonic()
        await asyncio.gather(*(start(i) for i in range(runs)))
        started = time.monotonic() - began
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(counter.done.wait(), within_seconds)
    if counter.count < expected or counter.first is None or counter.last is None:
        raise RuntimeError(f"raw steps: {counter.count} of {expected} in {within_seconds:.0f} s")
    return RawResult(runs, counter.count, counter.count / (counter.last - counter.first), started)


async def main(runs: int, mode: str) -> None:
    from bench.flow_config import FLOW
    from bench.stack import CpuMeter, bench_stack, stack_processes
    from worker import connect_temporal

    async with bench_stack("raw-steps", temporal_mode=mode) as stack:
        client = await connect_temporal(stack.settings())
        meter = CpuMeter(stack_processes(stack))
        meter.start()
        began = time.monotonic()
        result = await raw_steps(client, runs, shape_of(FLOW), 60 + runs * 0.2)
        wall = time.monotonic() - began
        used = meter.percent()
        per_step = {
            name: f"{10 * used[name] * wall / result.steps:.1f} ms"
            for name in ("bench process", "temporal")
        }
        print(
            f"{result.steps:,} steps of {runs:,} runs: {result.rate:.0f} steps/s; "
            f"started in {result.start_seconds:.1f} s; CPU {used}; "
            f"CPU per step (starts included): {per_step}"
        )


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.raw_steps", description=__doc__)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--temporal", default="file")
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.temporal))
