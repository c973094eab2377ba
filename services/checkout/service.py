"""Checkout: price a cart (evaluate, no side effects) and complete it (record coupon uses, draw
gift cards and store credit in the caller's transaction, once per order)."""

import dataclasses
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import CompletedCheckout
from models.database import Statements
from services.checkout import pricing
from services.checkout.codes import ALREADY_USED
from services.checkout.inputs import CheckoutInputs, CheckoutRequest, gather_inputs
from services.checkout.redemptions import draw_gift_cards, redeem_coupons
from services.checkout.shopper import shopper_view
from services.checkout.store_credit import credit_balance, draw_for_order
from services.errors import CouponAlreadyUsed, CouponExhausted, GiftCardInsufficient


def price(inputs: CheckoutInputs) -> pricing.PricedCart:
    """The one pricing call; gift cards go in under their ids and come out under their ids."""
    codes = inputs.codes
    return pricing.price_cart(
        inputs.cart,
        inputs.promotions,
        inputs.bundles,
        inputs.customer,
        codes.coupons,
        codes.gift_cards,
        codes.rejected,
    )


def contract_body(priced: pricing.PricedCart, inputs: CheckoutInputs) -> dict[str, Any]:
    """The response, with gift cards shown by their masked codes."""
    shown = inputs.codes.card_codes
    masked = dataclasses.replace(
        priced,
        gift_cards=tuple(
            dataclasses.replace(g, code=shown.get(g.code, g.code)) for g in priced.gift_cards
        ),
        rejected_codes=tuple(
            dataclasses.replace(r, code=shown.get(r.code, r.code)) for r in priced.rejected_codes
        ),
    )
    return masked.to_contract_dict()


def with_store_credit(body: dict[str, Any], wanted: int) -> dict[str, Any]:
    """Store credit pays after gift cards, never more than is still due."""
    applied = min(wanted, body["amount_due"])
    return {**body, "store_credit_applied": applied, "amount_due": body["amount_due"] - applied}


async def evaluate_checkout(
    session: AsyncSession,
    store_id: str,
    request: CheckoutRequest,
    hash_key: str,
    db: Statements | None = None,
) -> dict[str, Any]:
    """A publishable key (request.shopper_view) is shown only what a shopper may see. `db`
    runs the checkout's read (default: in `session`)."""
    now = datetime.now(UTC)
    inputs = await gather_inputs(session, store_id, request, hash_key, now, db=db)
    priced = price(inputs)
    if request.shopper_view:
        priced = shopper_view(priced, inputs, request)
    wanted = 0
    if request.store_credit and request.customer_id is not None:
        held = await credit_balance(session, store_id, request.customer_id, request.currency)
        wanted = min(request.store_credit, held)
    return with_store_credit(contract_body(priced, inputs), wanted)


async def _stored(session: AsyncSession, store_id: str, order_id: str) -> dict[str, Any] | None:
    return await session.scalar(
        select(CompletedCheckout.result).where(
            CompletedCheckout.store_id == store_id, CompletedCheckout.order_id == order_id
        )
    )


def _refuse_spent(priced: pricing.PricedCart, inputs: CheckoutInputs) -> None:
    """Completing never skips a code that has run out since it was shown: the platform may have
    promised the shopper its discount. Other rejections are kept, exactly as evaluate lists them."""
    for rejected in priced.rejected_codes:
        if rejected.reason == pricing.EXHAUSTED and rejected.code in inputs.codes.card_codes:
            raise GiftCardInsufficient(
                "a gift card has no balance left",
                details={"code": inputs.codes.card_codes[rejected.code]},
            )
        if rejected.reason == pricing.EXHAUSTED:
            raise CouponExhausted("this code has no use left", details={"code": rejected.code})
        if rejected.reason == ALREADY_USED:
            raise CouponAlreadyUsed(
                "this customer has already used this code", details={"code": rejected.code}
            )


async def complete_checkout(
    session: AsyncSession, store_id: str, request: CheckoutRequest, order_id: str, hash_key: str
) -> dict[str, Any]:
    """Idempotent by order id: a retry (whatever its body) gets the first result, unchanged."""
    if (done := await _stored(session, store_id, order_id)) is not None:
        return done
    inputs = await gather_inputs(session, store_id, request, hash_key, datetime.now(UTC), order_id)
    priced = price(inputs)
    _refuse_spent(priced, inputs)
    # Capped at what is due, never at the balance: the draw below takes it all or fails.
    wanted = request.store_credit if request.customer_id is not None else 0
    result = {"order_id": order_id, **with_store_credit(contract_body(priced, inputs), wanted)}
    # Claim the order first: a concurrent retry waits on this row, then returns our result.
    claimed = await session.scalar(
        insert(CompletedCheckout)
        .values(
            store_id=store_id,
            order_id=order_id,
            customer_id=request.customer_id,
            result=result,
            created_at=datetime.now(UTC),
        )
        .on_conflict_do_nothing()
        .returning(CompletedCheckout.order_id)
    )
    if claimed is None:
        done = await _stored(session, store_id, order_id)
        assert done is not None
        return done
    uses = [
        inputs.codes.uses[d.code]
        for d in priced.discounts
        if d.source == "coupon" and d.code is not None
    ]
    await redeem_coupons(session, store_id, order_id, request.customer_id, uses)
    await draw_gift_cards(
        session, store_id, order_id, [(g.code, g.amount) for g in priced.gift_cards]
    )
    if request.customer_id is not None:
        await draw_for_order(
            session,
            store_id,
            request.customer_id,
            request.currency,
            result["store_credit_applied"],
            order_id,
        )
    return result
