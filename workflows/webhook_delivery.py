"""One webhook delivery (`webhook:{store}:{delivery_id}`): attempts with exponential backoff,
10 s doubling up to an hour apart, until the receiver answers 2xx or the 24 h after the event
are over (then the delivery is `failed`). Each attempt and its answer is recorded on the
delivery by the activity; the run only decides when."""

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.webhook_delivery import DeliveryAttempt, WebhookActivities

FIRST_RETRY = timedelta(seconds=10)
LAST_RETRY = timedelta(hours=1)
# The activity's own retries are for the way to the database; the receiver's failures are
# answers, recorded and retried by this loop.
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)


@dataclass
class WebhookDeliveryInput:
    store_id: str
    delivery_id: str
    # What is left of the 24 h window when the run starts (0: one attempt only). A duration,
    # not a time: it is counted on Temporal's clock, like the timers.
    retry_seconds: float


def backoff(attempt: int) -> timedelta:
    """The wait after attempt `attempt` (1-based): 10 s, 20 s, 40 s, ... at most an hour."""
    return min(FIRST_RETRY * (1 << min(attempt - 1, 20)), LAST_RETRY)


@workflow.defn
class WebhookDeliveryWorkflow:
    @workflow.run
    async def run(self, inp: WebhookDeliveryInput) -> str:
        give_up_at = workflow.now() + timedelta(seconds=inp.retry_seconds)
        attempt = 0
        while True:
            attempt += 1
            next_time = workflow.now() + backoff(attempt)
            # Past the window this is the last attempt: a failure now fails the delivery.
            retry_at = next_time if next_time <= give_up_at else None
            outcome = await workflow.execute_activity_method(
                WebhookActivities.attempt_webhook_delivery,
                DeliveryAttempt(inp.store_id, inp.delivery_id, retry_at),
                start_to_close_timeout=timedelta(seconds=60),
                schedule_to_close_timeout=timedelta(hours=1),
                retry_policy=ACTIVITY_RETRY,
            )
            if outcome.status != "pending" or retry_at is None:
                return outcome.status
            await workflow.sleep(max(retry_at - workflow.now(), timedelta(0)))
