"""A store's feed token: the one secret in a feed URL (Merchant Center and Meta fetch the feed
without an API key). Looked up by its SHA-256 as an API key is; kept encrypted as well (AES-GCM
under SHOPSTAR_CHANNEL_SECRET_KEY, the key of channel secrets, bound to the store) so
staff can be shown it again. A rotation replaces it in the same row: the old one stops at once."""

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import FeedToken
from models.base import utcnow
from services.errors import NotFound, Unauthorized
from services.growth.webhook_secrets import decrypt_secret, encrypt_secret
from services.ids import hash_secret, new_secret

TOKEN_PREFIX = "ft"
MAX_TOKEN_LENGTH = 200


@dataclass(frozen=True)
class FeedAccess:
    """Whose feed a token opens, and the token's version (part of the feed's ETag)."""

    store_id: str
    version: int


def _bound(store_id: str) -> str:
    # The associated data: a ciphertext copied onto another store's row does not decrypt.
    return f"feed-token:{store_id}"


async def current_token(session: AsyncSession, key: str, store_id: str) -> str:
    """The store's token, made on first use."""
    row = await session.get(FeedToken, store_id)
    if row is not None:
        return decrypt_secret(key, _bound(store_id), row.token_encrypted)
    token = new_secret(TOKEN_PREFIX)
    values = _values(key, store_id, token)
    stmt = insert(FeedToken).values(store_id=store_id, version=1, created_at=utcnow(), **values)
    # Two first calls at once: one token wins, and both callers show that one.
    await session.execute(stmt.on_conflict_do_nothing(index_elements=[FeedToken.store_id]))
    row = await session.get(FeedToken, store_id, populate_existing=True)
    assert row is not None
    return decrypt_secret(key, _bound(store_id), row.token_encrypted)


async def rotate_token(session: AsyncSession, key: str, store_id: str) -> str:
    """A new token; the old one opens nothing from this commit on."""
    await current_token(session, key, store_id)
    token = new_secret(TOKEN_PREFIX)
    await session.execute(
        update(FeedToken)
        .where(FeedToken.store_id == store_id)
        .values(version=FeedToken.version + 1, **_values(key, store_id, token))
    )
    return token


def _values(key: str, store_id: str, token: str) -> dict[str, object]:
    return {
        "token_hash": hash_secret(token),
        "token_encrypted": encrypt_secret(key, _bound(store_id), token),
        "rotated_at": utcnow(),
    }


async def authenticate_feed(session: AsyncSession, token: str | None) -> FeedAccess:
    """The store a feed token opens: a missing token is 401, an unknown or rotated one 404."""
    if not token:
        raise Unauthorized("missing feed token: add ?token= from GET /v1/feeds")
    if len(token) > MAX_TOKEN_LENGTH:
        raise NotFound("unknown feed token")
    row = (
        await session.execute(
            select(FeedToken.store_id, FeedToken.version).where(
                FeedToken.token_hash == hash_secret(token)
            )
        )
    ).first()
    if row is None:
        raise NotFound("unknown feed token")
    return FeedAccess(store_id=row.store_id, version=row.version)
