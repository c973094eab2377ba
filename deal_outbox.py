"""Beside the worker: starts a `GroupDealWorkflow` for every deal created (the deal row is the
outbox: a deal accepted while Temporal is down gets its run when Temporal is back), and wakes
the runs of deals with news (`wake_pending`) with one signal per deal per round."""

import logging
from datetime import UTC, datetime

from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from flow_contract import ProgramKind
from rounds import Rounds
from services.growth.deal_runs import claim_unstarted, mark_started, rewake, take_wakes
from workflows.group_deal import GroupDealInput, GroupDealWorkflow
from workflows.search_attributes import FLOW_KIND, STORE_ID

log = logging.getLogger("shopstar.deal_outbox")


def workflow_id(store_id: str, deal_id: str) -> str:
    return f"deal:{store_id}:{deal_id}"


class DealOutbox(Rounds):
    name = "deal outbox round"

    async def start_runs(self) -> int:
        """Start the runs of deals that have none yet; the first failure ends the batch."""
        async with self._sessionmaker.begin() as session:
            rows = await claim_unstarted(session, self._batch_size, self._stores)
            started = []
            for row in rows:
                now = datetime.now(UTC)
                starts_in = max((row.starts_at - now).total_seconds(), 0.0)
                ends_in = max((row.ends_at - now).total_seconds(), 0.0)
                try:
                    await self._client.start_workflow(
                        GroupDealWorkflow.run,
                        GroupDealInput(row.store_id, row.id, starts_in, ends_in),
                        id=workflow_id(row.store_id, row.id),
                        task_queue=self._task_queue,
                        # One run per deal, even if the mark below was lost after a start.
                        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                        search_attributes=TypedSearchAttributes(
                            [
                                SearchAttributePair(STORE_ID, row.store_id),
                                SearchAttributePair(FLOW_KIND, str(ProgramKind.GROUP_DEAL)),
                            ]
                        ),
                    )
                except WorkflowAlreadyStartedError:
                    pass
                except Exception:
                    log.warning("deal run not started", extra={"deal_id": row.id})
                    break
                started.append(row)
            mark_started(started)
        return len(started)

    async def wake_runs(self) -> int:
        async with self._sessionmaker.begin() as session:
            pending = await take_wakes(session, self._batch_size, self._stores)
        failed = []
        for store_id, deal_id in pending:
            handle = self._client.get_workflow_handle(workflow_id(store_id, deal_id))
            try:
                await handle.signal(GroupDealWorkflow.joins_changed)
            except RPCError as exc:
                if exc.status is not RPCStatusCode.NOT_FOUND:  # an ended run needs no news
                    failed.append(deal_id)
            except Exception:
                failed.append(deal_id)
        if failed:
            log.warning("deal runs not woken", extra={"count": len(failed)})
            async with self._sessionmaker.begin() as session:
                await rewake(session, failed)
        return len(pending)

    async def dispatch_once(self) -> int:
        return await self.start_runs() + await self.wake_runs()
