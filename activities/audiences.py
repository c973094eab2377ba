"""The activities of audience syncs and removals: read in one transaction, call the network
outside any, record in another (services/channels/audience_sync.py holds the rules). A network
that is down raises (Temporal retries); a refusal is recorded for staff (`GET /v1/audiences`,
`GET /v1/channels`). No contact data or hash is logged or returned."""

from dataclasses import dataclass

from temporalio import activity
from temporalio.exceptions import ApplicationError

from models.database import SessionMaker
from services.channels import audience_sync as sync
from services.channels.connections import ChannelKeys, Network, credentials, record_outcome


@dataclass
class AudienceRef:
    store_id: str
    audience_id: str


@dataclass
class NetworkSync:
    store_id: str
    audience_id: str
    network: str


@dataclass
class SyncDone:
    status: str  # ok | error | gone
    added: int = 0
    removed: int = 0


@dataclass
class CustomerRef:
    store_id: str
    customer_id: str


@dataclass
class Removal:
    store_id: str
    customer_id: str
    audience_id: str
    network: str


class AudienceActivities:
    def __init__(self, sessionmaker: SessionMaker, keys: ChannelKeys) -> None:
        self._sessionmaker = sessionmaker
        self._keys = keys

    @activity.defn
    async def audience_networks(self, req: AudienceRef) -> list[str]:
        async with self._sessionmaker() as session:
            return await sync.audience_networks(session, req.store_id, req.audience_id)

    async def _failed(self, req: NetworkSync, exc: sync.UploadFailed) -> None:
        network = Network(req.network)
        async with self._sessionmaker.begin() as session:
            await sync.record_status(session, req.audience_id, network, str(exc))
            await record_outcome(session, req.store_id, network, f"audience sync: {exc}")

    @activity.defn
    async def sync_audience_network(self, req: NetworkSync) -> SyncDone:
        network = Network(req.network)
        async with self._sessionmaker() as session:
            plan = await sync.plan_sync(session, req.store_id, req.audience_id, network)
            creds = await credentials(session, req.store_id, network, self._keys)
        if plan is None:
            return SyncDone("gone")
        try:
            if creds is None:
                raise sync.UploadFailed(f"the store is not connected to {network}", retry=False)
            remote_id = plan.remote_id
            if remote_id is None:
                # Stored at once: a later failure must not create a second list.
                remote_id = await sync.create_remote_list(creds, plan.name)
                async with self._sessionmaker.begin() as session:
                    await sync.set_remote_id(session, req.audience_id, network, remote_id)
            removes = list(plan.removes.values())
            await sync.push(creds, remote_id, list(plan.adds.values()), removes)
        except sync.UploadFailed as exc:
            await self._failed(req, exc)
            if exc.retry:
                raise
            return SyncDone("error")
        async with self._sessionmaker.begin() as session:
            await sync.record_synced(session, req.store_id, req.audience_id, network, plan)
            await record_outcome(session, req.store_id, network, None)
        gone = len([c for c in plan.removes if c not in plan.adds])
        return SyncDone("ok", len(plan.adds), gone)

    @activity.defn
    async def audience_removal_targets(self, req: CustomerRef) -> list[Removal]:
        async with self._sessionmaker() as session:
            targets = await sync.removal_targets(session, req.store_id, req.customer_id)
        return [Removal(req.store_id, req.customer_id, t.audience_id, t.network) for t in targets]

    @activity.defn
    async def remove_from_audience(self, req: Removal) -> bool:
        """True once the network confirmed (or nothing was left to remove); raises otherwise,
        so the workflow tries again until it confirms."""
        target = sync.RemovalTarget(req.audience_id, req.network)
        network = Network(req.network)
        async with self._sessionmaker() as session:
            found = await sync.uploaded(session, req.store_id, req.customer_id, target)
            creds = await credentials(session, req.store_id, network, self._keys)
        if found is None:
            return True
        remote_id, hashes = found
        try:
            if creds is None or remote_id is None:
                raise sync.UploadFailed(f"the store is not connected to {network}", retry=True)
            await sync.push(creds, remote_id, [], [hashes])
        except sync.UploadFailed as exc:
            async with self._sessionmaker.begin() as session:
                await record_outcome(session, req.store_id, network, f"audience removal: {exc}")
            raise ApplicationError(f"removal not confirmed: {exc}") from exc
        async with self._sessionmaker.begin() as session:
            await sync.confirm_removed(session, req.customer_id, target, hashes)
            await record_outcome(session, req.store_id, network, None)
        return True
