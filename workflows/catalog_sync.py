"""A store's catalog sync to one network (`catalog-sync:{store}:{network}`), started or woken
by the catalog outbox (catalog_outbox.py) when products change. It pushes batch after batch
until nothing is dirty, waiting for the next product to be due (a minute after its last push,
longer after failures) or for news, then ends; the next change starts a new run. The dirty
flags are in the database, so a run that is ended or lost loses nothing."""

import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.catalog_sync import CatalogSyncActivities, CatalogSyncInput

ROUNDS_PER_RUN = 200  # then continue-as-new: the history stays short


@workflow.defn
class CatalogSyncWorkflow:
    def __init__(self) -> None:
        self._changed = False

    @workflow.signal(name="catalog_changed")
    def catalog_changed(self) -> None:
        self._changed = True

    @workflow.run
    async def run(self, inp: CatalogSyncInput) -> None:
        for _ in range(ROUNDS_PER_RUN):
            self._changed = False
            wait = await workflow.execute_activity_method(
                CatalogSyncActivities.push_catalog_batch,
                inp,
                start_to_close_timeout=timedelta(minutes=5),
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
            )
            if wait is None:
                if not self._changed:
                    return
                continue
            if wait > 0:
                with contextlib.suppress(TimeoutError):  # the next product is due
                    await workflow.wait_condition(
                        lambda: self._changed, timeout=timedelta(seconds=wait)
                    )
        workflow.continue_as_new(inp)
