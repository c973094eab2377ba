"""Gift cards: issued with a secret code (shown once, stored as a keyed hash), looked up by code
or id, with the live balance and every movement of it."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import GiftCard, GiftCardTransaction
from services.checkout.code_text import (
    GIFT_CARD_CODE,
    GIFT_CARD_LENGTH,
    group_gift_card,
    hash_gift_card,
    normalize_gift_card,
    random_code,
)
from services.errors import Conflict, NotFound, invalid_field
from services.ids import new_id
from services.pagination import fetch_page

ID_PREFIX = "gc_"


@dataclass(frozen=True)
class IssuedGiftCard:
    card: GiftCard
    code: str  # in full, grouped for reading: returned once, never stored


async def issue_gift_card(
    session: AsyncSession,
    store_id: str,
    hash_key: str,
    *,
    initial_balance: int,
    currency: str,
    code: str | None = None,
    expires_at: datetime | None = None,
) -> IssuedGiftCard:
    now = datetime.now(UTC)
    if expires_at is not None and expires_at <= now:
        raise invalid_field("expires_at", "must be in the future")
    if code is not None:
        normalized = normalize_gift_card(code)
        if not GIFT_CARD_CODE.match(normalized):
            raise invalid_field("code", "16 to 64 letters or digits (spaces and dashes ignored)")
    else:
        normalized = random_code(GIFT_CARD_LENGTH)
    card_id = new_id("gc")
    stmt = insert(GiftCard).values(
        id=card_id,
        store_id=store_id,
        code_hash=hash_gift_card(normalized, hash_key),
        last4=normalized[-4:],
        currency=currency,
        initial_balance=initial_balance,
        balance=initial_balance,
        expires_at=expires_at,
        created_at=now,
    )
    stmt = stmt.on_conflict_do_nothing(constraint="uq_gift_cards_store_code_hash")
    if (await session.scalar(stmt.returning(GiftCard.id))) is None:
        # Only a code chosen by the caller can clash (a random one has 79 bits).
        raise Conflict("this gift-card code is taken in this store", code="gift_card_code_taken")
    session.add(
        GiftCardTransaction(
            id=new_id("gct"),
            store_id=store_id,
            gift_card_id=card_id,
            kind="issue",
            amount=initial_balance,
            balance_after=initial_balance,
            created_at=now,
        )
    )
    await session.flush()
    card = await session.get_one(GiftCard, card_id)
    return IssuedGiftCard(card=card, code=group_gift_card(normalized))


async def find_gift_card(
    session: AsyncSession, store_id: str, hash_key: str, code_or_id: str
) -> GiftCard:
    """By the code the shopper holds, or by the id staff see in lists."""
    if code_or_id.startswith(ID_PREFIX):
        card = await session.get(GiftCard, code_or_id)
    else:
        code_hash = hash_gift_card(normalize_gift_card(code_or_id), hash_key)
        card = await session.scalar(
            select(GiftCard).where(GiftCard.store_id == store_id, GiftCard.code_hash == code_hash)
        )
    if card is None or card.store_id != store_id:
        raise NotFound("gift card not found")
    return card


async def card_transactions(session: AsyncSession, card: GiftCard) -> Sequence[GiftCardTransaction]:
    rows = await session.scalars(
        select(GiftCardTransaction)
        .where(GiftCardTransaction.gift_card_id == card.id)
        .order_by(GiftCardTransaction.created_at, GiftCardTransaction.id)
    )
    return rows.all()


async def list_gift_cards(
    session: AsyncSession, store_id: str, *, limit: int, cursor: str | None
) -> tuple[Sequence[GiftCard], str | None]:
    query = select(GiftCard).where(GiftCard.store_id == store_id)
    return await fetch_page(session, query, GiftCard, limit, cursor)
