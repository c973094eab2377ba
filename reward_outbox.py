"""Beside the worker: starts a `SharingRewardWorkflow` for every share link that qualified for
its reward (the link row is the outbox: a link that qualified while Temporal was down gets its
run when Temporal is back). One run per link, so the reward is granted once."""

import logging

from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from flow_contract import ProgramKind, SharingRewardInput
from rounds import Rounds
from services.growth.sharing import claim_qualified, mark_started
from workflows.program_rewards import SharingRewardWorkflow
from workflows.search_attributes import CUSTOMER_ID, FLOW_KIND, STORE_ID

log = logging.getLogger("shopstar.reward_outbox")


def workflow_id(store_id: str, link_id: str) -> str:
    return f"sharing:{store_id}:{link_id}"


class RewardOutbox(Rounds):
    name = "reward outbox round"

    async def dispatch_once(self) -> int:
        """Start the runs of qualified links that have none yet; the first failure ends the
        batch (the rest are tried next round)."""
        async with self._sessionmaker.begin() as session:
            rows = await claim_qualified(session, self._batch_size, self._stores)
            started = []
            for row in rows:
                pairs = [
                    SearchAttributePair(STORE_ID, row.store_id),
                    SearchAttributePair(FLOW_KIND, str(ProgramKind.SHARING)),
                ]
                if row.customer_id:
                    pairs.append(SearchAttributePair(CUSTOMER_ID, row.customer_id))
                try:
                    await self._client.start_workflow(
                        SharingRewardWorkflow.run,
                        SharingRewardInput(row.store_id, row.id),
                        id=workflow_id(row.store_id, row.id),
                        task_queue=self._task_queue,
                        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                        search_attributes=TypedSearchAttributes(pairs),
                    )
                except WorkflowAlreadyStartedError:
                    pass
                except Exception:
                    log.warning("sharing reward run not started", extra={"link_id": row.id})
                    break
                started.append(row)
            mark_started(started)
        return len(started)
