"""Audience runs (docs/channels.md, "Audiences").

`AudienceSyncWorkflow`: started by the audience's Temporal Schedule (`audience-sync:{id}`, every
6 h, created by the worker's audience_schedules.py): each network's list gets the difference
since the last upload. `AudienceRemovalWorkflow`: started by the relay when a customer withdraws
`consent.ads` or is erased (`audience-removal:{store}:{customer}:{event seq}`): the customer
leaves every list on every network at once, each removal retried until the network confirms.
Ids only in inputs, results and search attributes: the hashes stay in the database."""

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.audiences import (
        AudienceActivities,
        AudienceRef,
        CustomerRef,
        NetworkSync,
        SyncDone,
    )
    from workflows.search_attributes import FLOW_OUTCOME

QUICK = timedelta(minutes=1)
CALLS = timedelta(minutes=10)
SYNC_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=10), maximum_attempts=6)
# A removal is retried until the network confirms: no attempt limit.
REMOVAL_RETRY = RetryPolicy(maximum_interval=timedelta(hours=1))


@dataclass
class AudienceSyncInput:
    store_id: str
    audience_id: str


@dataclass
class AudienceRemovalInput:
    store_id: str
    customer_id: str


@workflow.defn
class AudienceSyncWorkflow:
    @workflow.run
    async def run(self, inp: AudienceSyncInput) -> dict[str, SyncDone]:
        networks = await workflow.execute_activity_method(
            AudienceActivities.audience_networks,
            AudienceRef(inp.store_id, inp.audience_id),
            start_to_close_timeout=QUICK,
        )
        results: dict[str, SyncDone] = {}
        for network in networks:
            try:
                results[network] = await workflow.execute_activity_method(
                    AudienceActivities.sync_audience_network,
                    NetworkSync(inp.store_id, inp.audience_id, network),
                    start_to_close_timeout=CALLS,
                    retry_policy=SYNC_RETRY,
                )
            except ActivityError:
                # Down all along: recorded for staff; the next scheduled sync tries again.
                results[network] = SyncDone("error")
        statuses = sorted({r.status for r in results.values()}) or ["gone"]
        workflow.upsert_search_attributes([FLOW_OUTCOME.value_set("/".join(statuses))])
        return results


@workflow.defn
class AudienceRemovalWorkflow:
    @workflow.run
    async def run(self, inp: AudienceRemovalInput) -> int:
        targets = await workflow.execute_activity_method(
            AudienceActivities.audience_removal_targets,
            CustomerRef(inp.store_id, inp.customer_id),
            start_to_close_timeout=QUICK,
            retry_policy=REMOVAL_RETRY,
        )
        for target in targets:
            await workflow.execute_activity_method(
                AudienceActivities.remove_from_audience,
                target,
                start_to_close_timeout=CALLS,
                retry_policy=REMOVAL_RETRY,
            )
        workflow.upsert_search_attributes([FLOW_OUTCOME.value_set(f"removed:{len(targets)}")])
        return len(targets)
