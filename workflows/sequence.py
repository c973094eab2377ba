"""What every recovery flow shares: wait until a step is due (a signal may end the wait), gate
it right before sending (holding through quiet hours), send it, and close the run with an outcome.
Deterministic: only workflow APIs, no I/O."""

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, RetryState

with workflow.unsafe.imports_passed_through():
    from activities.flow_steps import FlowActivities
    from flow_contract import (
        STEP_MAX_ATTEMPTS,
        FlowPlan,
        MessageStatus,
        RunClosed,
        RunEnding,
        RunStep,
    )
    from workflows.search_attributes import FLOW_OUTCOME, FLOW_STEP, ORDER_ID
    from workflows.types import RunState

SEEN_IDS_KEPT = 256
# A step is one local activity that gates and sends, and the closing bookkeeping another: a
# short database transaction in the worker that already holds the run, recorded as one marker
# (one worker task a step) instead of a scheduled activity and a second task.
# Capped: a step that still fails after about an hour fails (the activity records why on the
# last attempt); a config or template error fails at once (non-retryable).
STEP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=STEP_MAX_ATTEMPTS,
)
# Short: when a worker dies mid-step, the step is retried on another worker after this long.
STEP_TIMEOUT = timedelta(seconds=15)


class FlowSequence:
    """The state machine of one run; the workflow's signal handlers feed it."""

    def __init__(self, state: RunState) -> None:
        self.state = state
        self.ending: RunEnding | None = None  # set by a signal: the run ends with this outcome
        self.order_id: str | None = None
        self.changed = False
        self.signals = 0

    def is_new(self, event_id: str, seq: int) -> bool:
        """At-least-once delivery: drop an event seen before, or older than the newest seen."""
        state = self.state
        if event_id in state.seen_event_ids or seq <= state.last_seq:
            return False
        state.seen_event_ids.append(event_id)
        del state.seen_event_ids[:-SEEN_IDS_KEPT]
        state.last_seq = seq
        self.signals += 1
        return True

    def restart_wait(self, waited_seconds: float = 0.0) -> None:
        """The quiet wait restarts from the activity: from when the api accepted it, so that
        neither the relay nor a worker busy with other runs delays the message. The signal that
        started the run counts from the run's start (this worker may get to it much later);
        later ones from now. Neither clock is the api's: only the event's wait before the relay
        sent it is, as a duration. Never earlier than activity already seen."""
        last = self.state.last_activity_at
        base = workflow.info().workflow_start_time if last is None else workflow.now()
        moment = base - timedelta(seconds=waited_seconds)
        self.state.last_activity_at = moment if last is None else max(last, moment)
        self.changed = True

    def wants_new_run(self, signals_per_run: int) -> bool:
        """Continue as new when Temporal suggests it, or after many signals in this run."""
        suggested = workflow.info().is_continue_as_new_suggested()
        return suggested or self.signals >= signals_per_run

    def end(self, outcome: RunEnding, order_id: str | None = None) -> None:
        """End the run at its next wake-up; an order outranks any other ending."""
        converted = RunEnding.CONVERTED
        if self.ending is None or (outcome == converted and self.ending != converted):
            self.ending, self.order_id = outcome, order_id

    async def run(
        self,
        plan: FlowPlan,
        request: Callable[[int], RunStep],
        should_continue: Callable[[], bool],
        continue_as_new: Callable[[], None],
    ) -> str:
        """Run the remaining steps; returns the outcome once the run is closed."""
        state = self.state
        if not state.run_key:
            state.run_key = str(workflow.uuid4())
        if state.last_activity_at is None:  # no activity came: the wait counts from the start
            state.last_activity_at = workflow.info().workflow_start_time
        while state.next_step < len(plan.step_delays):
            due = self._due(plan)
            if await self._woken_before(due):
                if self.ending is not None:
                    return await self.close(request(state.next_step), self.ending)
                if should_continue():
                    await workflow.wait_condition(workflow.all_handlers_finished)
                    continue_as_new()
                continue
            # The next step's delay counts from when this one was due, not from when its
            # activities finished.
            state.last_step_at = due
            ending = await self._run_step(request(state.next_step))
            if ending is not None:
                return await self.close(request(state.next_step), ending)
        outcome = "sent" if state.sent_steps else f"suppressed:{state.last_reason}"
        return await self.close(request(state.next_step), outcome)

    def _due(self, plan: FlowPlan) -> datetime:
        """A full trigger delay after the last activity, and the step's delay after the
        previous step (or after the trigger delay, for the first step)."""
        state = self.state
        assert state.last_activity_at is not None
        delay = timedelta(seconds=plan.step_delays[state.next_step])
        quiet_until = state.last_activity_at + timedelta(seconds=plan.trigger_delay_seconds)
        if state.last_step_at is None:
            return quiet_until + delay
        return max(quiet_until, state.last_step_at + delay)

    async def _woken_before(self, due: datetime) -> bool:
        """Sleep until `due`; True when a signal (activity or an ending) came first."""
        self.changed = False
        if self.ending is not None:
            return True
        remaining = due - workflow.now()
        if remaining <= timedelta(0):
            return False
        try:
            await workflow.wait_condition(
                lambda: self.changed or self.ending is not None, timeout=remaining
            )
        except TimeoutError:
            return False
        return True

    async def _run_step(self, request: RunStep) -> str | None:
        """Gate then send one step; returns the run's outcome when the step ends the run."""
        workflow.upsert_search_attributes([FLOW_STEP.value_set(self.state.next_step)])
        state = self.state
        while True:
            try:
                outcome = await workflow.execute_local_activity_method(
                    FlowActivities.run_flow_step,
                    replace(request, now=workflow.now()),
                    start_to_close_timeout=STEP_TIMEOUT,
                    retry_policy=STEP_RETRY,
                )
            except (ActivityError, ApplicationError) as err:
                if not _is_permanent(err):
                    raise
                # A permanent provider error (invalid number, opted out): this step failed
                # and is logged so; the next step may use another channel.
                state.next_step += 1
                state.last_reason = MessageStatus.FAILED
                return None
            if outcome.hold_until is None:
                break
            if await self._held_until_ended(outcome.hold_until):
                return self.ending
        state.next_step += 1
        # sent, unknown (maybe sent: never sent again), or delivered by a retry's count
        if outcome.status != MessageStatus.SUPPRESSED:
            state.sent_steps += 1
            return None
        state.last_reason = outcome.reason
        return outcome.reason.ending if outcome.reason else None

    async def _held_until_ended(self, hold_until: datetime) -> bool:
        """Quiet hours: the message waits for the window to open; True if the run ended."""
        try:
            await workflow.wait_condition(
                lambda: self.ending is not None, timeout=hold_until - workflow.now()
            )
            return True
        except TimeoutError:
            return False

    async def close(self, request: RunStep, outcome: str) -> str:
        outcome = str(outcome)  # a plain string in the history and the search attribute
        updates = [FLOW_OUTCOME.value_set(outcome)]
        if self.order_id is not None:
            updates.append(ORDER_ID.value_set(self.order_id))
        workflow.upsert_search_attributes(updates)
        closed = RunClosed(
            store_id=request.store_id, workflow_id=request.workflow_id, outcome=outcome
        )
        await workflow.execute_local_activity_method(
            FlowActivities.close_recovery_run,
            closed,
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=STEP_RETRY,
        )
        return outcome


def _is_permanent(err: ActivityError | ApplicationError) -> bool:
    """A non-retryable failure of the step's activity, or one that used up its attempts. The
    failure may come wrapped in an `ActivityError`, or as the `ApplicationError` itself."""
    if isinstance(err, ActivityError) and err.retry_state == RetryState.MAXIMUM_ATTEMPTS_REACHED:
        return True
    cause = err.cause if isinstance(err, ActivityError) else err
    return isinstance(cause, ApplicationError) and cause.non_retryable
