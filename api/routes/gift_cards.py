"""Gift cards: issued with a secret code, shown in full only once."""

from typing import Annotated

from fastapi import Query

from api.deps import SecretKey, SessionDep, SettingsDep
from api.errors import ERROR_SCHEMA
from api.guard import guarded_router
from api.schemas.common import Page
from api.schemas.gift_cards import (
    GiftCardIn,
    GiftCardIssued,
    GiftCardOut,
    GiftCardSummary,
    GiftCardTransactionOut,
)
from models import GiftCard
from services.checkout import gift_cards
from services.checkout.code_text import mask_gift_card
from services.pagination import DEFAULT_LIMIT, MAX_LIMIT

router = guarded_router(
    prefix="/v1/gift-cards",
    tags=["gift cards"],
    responses={401: ERROR_SCHEMA, 403: ERROR_SCHEMA, 422: ERROR_SCHEMA},
)


def _summary(card: GiftCard) -> dict[str, object]:
    fields = {n: getattr(card, n) for n in GiftCardSummary.model_fields if n != "code"}
    return {**fields, "code": mask_gift_card(card.last4)}


@router.post("", status_code=201, response_model=GiftCardIssued, responses={409: ERROR_SCHEMA})
async def issue_gift_card(
    body: GiftCardIn, session: SessionDep, caller: SecretKey, settings: SettingsDep
) -> GiftCardIssued:
    """Issue a card; the answer carries its full code, which is never shown again."""
    issued = await gift_cards.issue_gift_card(
        session,
        caller.store_id,
        settings.gift_card_hash_key,
        initial_balance=body.initial_balance,
        currency=body.currency,
        code=body.code,
        expires_at=body.expires_at,
    )
    return GiftCardIssued.model_validate({**_summary(issued.card), "code": issued.code})


@router.get("", response_model=Page[GiftCardSummary])
async def list_gift_cards(
    session: SessionDep,
    caller: SecretKey,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[GiftCardSummary]:
    """The store's cards, newest first, by their last four characters."""
    rows, next_cursor = await gift_cards.list_gift_cards(
        session, caller.store_id, limit=limit, cursor=cursor
    )
    items = [GiftCardSummary.model_validate(_summary(card)) for card in rows]
    return Page(items=items, next_cursor=next_cursor)


@router.get("/{code}", response_model=GiftCardOut, responses={404: ERROR_SCHEMA})
async def get_gift_card(
    code: str, session: SessionDep, caller: SecretKey, settings: SettingsDep
) -> GiftCardOut:
    """A card by its code (or its id): live balance and every transaction."""
    card = await gift_cards.find_gift_card(
        session, caller.store_id, settings.gift_card_hash_key, code
    )
    moves = await gift_cards.card_transactions(session, card)
    transactions = [GiftCardTransactionOut.model_validate(t) for t in moves]
    return GiftCardOut.model_validate({**_summary(card), "transactions": transactions})
