"""Stores and their API keys: provisioning, issuing, revoking and authenticating keys."""

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import ApiKey, Store
from services.errors import InvalidInput, NotFound, Unauthorized
from services.ids import hash_secret, new_id, new_secret

KeyKind = Literal["secret", "publishable"]
KEY_PREFIX: dict[str, str] = {"secret": "sk", "publishable": "pk"}
_CACHE_LIMIT = 50_000


@dataclass(frozen=True)
class IssuedKey:
    id: str
    kind: str
    key: str  # shown once, never stored


@dataclass(frozen=True)
class Principal:
    """Who is calling: one store, with a secret or a publishable key."""

    store_id: str
    key_kind: str
    key_id: str | None = None  # who changed a setting, in the store's audit list


def check_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"unknown time zone {name!r}", details={"field": "timezone"}) from exc


async def create_store(
    session: AsyncSession, *, name: str, currency: str, timezone: str
) -> tuple[Store, list[IssuedKey]]:
    check_timezone(timezone)
    store = Store(id=new_id("st"), name=name, currency=currency.upper(), timezone=timezone)
    session.add(store)
    await session.flush()
    keys = [
        await issue_key(session, store.id, "secret"),
        await issue_key(session, store.id, "publishable"),
    ]
    return store, keys


async def get_store(session: AsyncSession, store_id: str) -> Store:
    store = await session.get(Store, store_id)
    if store is None:
        raise NotFound("store not found")
    return store


async def issue_key(session: AsyncSession, store_id: str, kind: str) -> IssuedKey:
    if kind not in KEY_PREFIX:
        raise InvalidInput("kind must be 'secret' or 'publishable'", details={"field": "kind"})
    secret = new_secret(KEY_PREFIX[kind])
    key = ApiKey(
        id=new_id("key"),
        store_id=store_id,
        kind=kind,
        key_hash=hash_secret(secret),
        last4=secret[-4:],
    )
    session.add(key)
    await session.flush()
    return IssuedKey(id=key.id, kind=kind, key=secret)


async def revoke_key(session: AsyncSession, store_id: str, key_id: str) -> None:
    result = await session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.store_id == store_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
        .returning(ApiKey.id)
    )
    if result.scalar_one_or_none() is None:
        raise NotFound("key not found")
    # This replica refuses it from the next request; the others within their cache's TTL.
    for presented_hash in [h for h, (p, _) in _known_keys.items() if p.key_id == key_id]:
        _known_keys.pop(presented_hash, None)


# Key hash -> (who it is, monotonic time until which it is trusted without a lookup). Only
# keys found live are kept: an unknown key is looked up every time.
_known_keys: dict[str, tuple[Principal, float]] = {}


async def authenticate(
    session: AsyncSession, presented: str, cache_seconds: float = 0
) -> Principal:
    """The caller of a key; a key found live is trusted for `cache_seconds` (so a revocation
    made through another replica takes effect within that time)."""
    key_hash = hash_secret(presented)
    now = time.monotonic()
    known = _known_keys.get(key_hash)
    if known is not None and known[1] > now:
        return known[0]
    row = (
        await session.execute(
            select(ApiKey.store_id, ApiKey.kind, ApiKey.id).where(
                ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None)
            )
        )
    ).first()
    if row is None:
        _known_keys.pop(key_hash, None)
        raise Unauthorized("unknown or revoked API key")
    principal = Principal(store_id=row.store_id, key_kind=row.kind, key_id=row.id)
    if cache_seconds > 0:
        if len(_known_keys) >= _CACHE_LIMIT:
            _known_keys.clear()
        _known_keys[key_hash] = (principal, now + cache_seconds)
    return principal
