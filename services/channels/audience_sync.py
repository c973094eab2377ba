"""Audience syncs by difference, and removals at once (docs/channels.md, "Audiences").

A sync hashes the members of now for the network (Google: E.164 with `+`; Meta: digits), diffs
them with what was last uploaded (`audience_members`) and sends only the difference: a member
whose hashes changed is removed with the old ones and added with the new. A removal (consent
withdrawn, erasure) sends the stored hashes: the contact data may be gone already. Stored hashes
go once the network has confirmed. Contact data and hashes are never logged."""

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

import httpx
from sqlalchemy import delete, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from integrations.ad_networks import CredentialRejected, NetworkUnavailable
from integrations.audience_uploads import GoogleCustomerMatch, MetaCustomAudience, UploadRefused
from models import Audience, AudienceMember, AudienceNetwork
from services.channels.audiences import Member, current_members
from services.channels.connections import Credentials, Network
from services.channels.hashing import google_hashed_phone, hashed_email, meta_hashed_phone

CALL_SECONDS = 60.0
MAX_ERROR_LENGTH = 500


class UploadFailed(Exception):
    """The network did not take the upload: `retry` when it may later (down, rate limited)."""

    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


def member_hashes(network: Network, member: Member) -> list[str]:
    """The member's identifiers for this network, as `kind:hex`, sorted (stable for diffing)."""
    hashes = []
    if member.email:
        hashes.append(f"email:{hashed_email(member.email)}")
    if member.phone:
        phone = google_hashed_phone if network == Network.GOOGLE_ADS else meta_hashed_phone
        hashes.append(f"phone:{phone(member.phone)}")
    return sorted(hashes)


async def audience_networks(session: AsyncSession, store_id: str, audience_id: str) -> list[str]:
    audience = await session.get(Audience, audience_id)
    if audience is None or audience.store_id != store_id:
        return []
    return list(audience.networks)


@dataclass
class SyncPlan:
    name: str
    remote_id: str | None
    adds: dict[str, list[str]] = field(default_factory=dict)
    removes: dict[str, list[str]] = field(default_factory=dict)


async def plan_sync(
    session: AsyncSession, store_id: str, audience_id: str, network: Network
) -> SyncPlan | None:
    """The difference to upload; None when the audience (or this network of it) is gone."""
    audience = await session.get(Audience, audience_id)
    state = await session.get(AudienceNetwork, (audience_id, str(network)))
    if audience is None or audience.store_id != store_id or state is None:
        return None
    desired = {
        m.customer_id: member_hashes(network, m)
        for m in await current_members(session, store_id, audience.rule)
    }
    stored = {
        r.customer_id: list(r.hashes)
        for r in await session.scalars(
            select(AudienceMember).where(
                AudienceMember.audience_id == audience_id,
                AudienceMember.network == str(network),
            )
        )
    }
    plan = SyncPlan(f"{audience.name} ({audience.id})", state.remote_id)
    plan.adds = {c: h for c, h in desired.items() if stored.get(c) != h}
    plan.removes = {c: h for c, h in stored.items() if desired.get(c) != h}
    return plan


def _client(
    creds: Credentials, http: httpx.AsyncClient
) -> GoogleCustomerMatch | MetaCustomAudience:
    kind = GoogleCustomerMatch if creds.network == Network.GOOGLE_ADS else MetaCustomAudience
    return kind(http, creds.ids, creds.secrets, creds.base_url)


T = TypeVar("T")


async def _guarded(call: Awaitable[T]) -> T:
    try:
        return await call
    except NetworkUnavailable as exc:
        raise UploadFailed(str(exc), retry=True) from exc
    except CredentialRejected as exc:
        raise UploadFailed(f"{exc.field}: {exc.reason}", retry=False) from exc
    except UploadRefused as exc:
        raise UploadFailed(exc.reason, retry=False) from exc


async def create_remote_list(creds: Credentials, name: str) -> str:
    async with httpx.AsyncClient(timeout=CALL_SECONDS, follow_redirects=False) as http:
        return await _guarded(_client(creds, http).create_list(name))


async def push(
    creds: Credentials,
    remote_id: str,
    adds: Sequence[Sequence[str]],
    removes: Sequence[Sequence[str]],
) -> None:
    """Removes, then adds; raises `UploadFailed`."""
    if not adds and not removes:
        return
    async with httpx.AsyncClient(timeout=CALL_SECONDS, follow_redirects=False) as http:
        await _guarded(_client(creds, http).upload(remote_id, adds, removes))


async def set_remote_id(
    session: AsyncSession, audience_id: str, network: Network, remote_id: str
) -> None:
    state = await session.get(AudienceNetwork, (audience_id, str(network)), with_for_update=True)
    if state is not None:
        state.remote_id = remote_id


async def record_synced(
    session: AsyncSession, store_id: str, audience_id: str, network: Network, plan: SyncPlan
) -> None:
    now = datetime.now(UTC)
    gone = [c for c in plan.removes if c not in plan.adds]
    if gone:
        await session.execute(
            delete(AudienceMember).where(
                AudienceMember.audience_id == audience_id,
                AudienceMember.network == str(network),
                AudienceMember.customer_id.in_(gone),
            )
        )
    rows = [
        {
            "audience_id": audience_id,
            "network": str(network),
            "customer_id": c,
            "store_id": store_id,
            "hashes": h,
            "uploaded_at": now,
        }
        for c, h in plan.adds.items()
    ]
    for i in range(0, len(rows), 1000):
        stmt = insert(AudienceMember)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["audience_id", "network", "customer_id"],
                set_={"hashes": stmt.excluded.hashes, "uploaded_at": stmt.excluded.uploaded_at},
            ),
            rows[i : i + 1000],
        )
    await record_status(session, audience_id, network, None, len(plan.adds), len(gone))


async def record_status(
    session: AsyncSession,
    audience_id: str,
    network: Network,
    error: str | None,
    added: int = 0,
    removed: int = 0,
) -> None:
    """The last sync as staff see it in `GET /v1/audiences/{id}` (our words, no contact data)."""
    state = await session.get(AudienceNetwork, (audience_id, str(network)), with_for_update=True)
    if state is None:
        return
    state.last_sync_at = datetime.now(UTC)
    state.last_sync_status = "error" if error else "ok"
    state.last_error = error[:MAX_ERROR_LENGTH] if error else None
    if error is None:
        state.added, state.removed = added, removed


@dataclass(frozen=True)
class RemovalTarget:
    audience_id: str
    network: str


async def removal_targets(
    session: AsyncSession, store_id: str, customer_id: str
) -> list[RemovalTarget]:
    """Every list the customer was uploaded to."""
    rows = await session.execute(
        select(AudienceMember.audience_id, AudienceMember.network)
        .where(AudienceMember.store_id == store_id, AudienceMember.customer_id == customer_id)
        .order_by(AudienceMember.audience_id, AudienceMember.network)
    )
    return [RemovalTarget(r.audience_id, r.network) for r in rows]


async def uploaded(
    session: AsyncSession, store_id: str, customer_id: str, target: RemovalTarget
) -> tuple[str | None, list[str]] | None:
    """The list's remote id and the hashes uploaded for the customer; None if not there."""
    row = await session.get(AudienceMember, (target.audience_id, target.network, customer_id))
    if row is None or row.store_id != store_id:
        return None
    state = await session.get(AudienceNetwork, (target.audience_id, target.network))
    return (state.remote_id if state else None), list(row.hashes)


async def confirm_removed(
    session: AsyncSession, customer_id: str, target: RemovalTarget, hashes: list[str]
) -> None:
    """The network confirmed: forget the hashes (unless a sync uploaded new ones meanwhile)."""
    await session.execute(
        delete(AudienceMember).where(
            AudienceMember.audience_id == target.audience_id,
            AudienceMember.network == target.network,
            AudienceMember.customer_id == customer_id,
            AudienceMember.hashes == hashes,
        )
    )


async def customers_with_uploads(
    session: AsyncSession, keys: set[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Of these (store, customer), those uploaded to some list: a removal has work to do."""
    if not keys:
        return set()
    rows = await session.execute(
        select(AudienceMember.store_id, AudienceMember.customer_id)
        .where(tuple_(AudienceMember.store_id, AudienceMember.customer_id).in_(keys))
        .distinct()
    )
    return {(r.store_id, r.customer_id) for r in rows}
