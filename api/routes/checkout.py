"""Checkout: price a cart, and complete it atomically at order time."""

from datetime import UTC, datetime

from api.deps import AnyKey, DirectDep, SecretKey, SessionDep, SettingsDep
from api.errors import ERROR_SCHEMA
from api.guard import autocommit, guarded_router
from api.responses import FastJSONResponse
from api.schemas.checkout import CheckoutCompleteIn, CheckoutIn, CompletedOut, PricedCartOut
from config import Settings
from services.checkout.inputs import CheckoutItem, CheckoutRequest
from services.checkout.service import complete_checkout, evaluate_checkout
from services.checkout.shopper_tokens import priced_customer
from services.stores.service import Principal

router = guarded_router(
    prefix="/v1/checkout",
    tags=["checkout"],
    responses={401: ERROR_SCHEMA, 422: ERROR_SCHEMA},
)


def _request(body: CheckoutIn, caller: Principal, settings: Settings) -> CheckoutRequest:
    publishable = caller.key_kind != "secret"
    customer_id = priced_customer(
        settings.shopper_token_secret,
        caller.store_id,
        publishable=publishable,
        customer_id=body.customer_id,
        shopper_token=body.shopper_token,
        now=datetime.now(UTC),
    )
    return CheckoutRequest(
        currency=body.currency,
        items=tuple(
            CheckoutItem(i.product_id, i.variant_id, i.quantity, i.unit_price) for i in body.items
        ),
        shipping=body.shipping,
        customer_id=customer_id,
        coupon_codes=tuple(body.coupon_codes),
        gift_card_codes=tuple(body.gift_card_codes),
        shopper_view=publishable,
        store_credit=body.store_credit,
    )


# The priced cart is built to the contract's shape by the pricing types; it is sent as is rather
# than validated a second time against the response model (which documents it).
@router.post("/evaluate", response_model=PricedCartOut)
@autocommit  # it only reads: no BEGIN and COMMIT round trips
async def evaluate(
    body: CheckoutIn,
    session: SessionDep,
    direct: DirectDep,
    caller: AnyKey,
    settings: SettingsDep,
) -> FastJSONResponse:
    """Price a cart with its codes; nothing is recorded. A publishable key is shown only what a
    shopper may know (docs/api-checkout.md): any code that does not apply is `invalid_code`, gift
    cards pay at most the catalog value of the items, and customer pricing needs shopper_token."""
    request = _request(body, caller, settings)
    result = await evaluate_checkout(
        session, caller.store_id, request, settings.gift_card_hash_key, direct
    )
    return FastJSONResponse(result)


@router.post(
    "/complete",
    response_model=CompletedOut,
    responses={403: ERROR_SCHEMA, 409: ERROR_SCHEMA},
)
async def complete(
    body: CheckoutCompleteIn, session: SessionDep, caller: SecretKey, settings: SettingsDep
) -> FastJSONResponse:
    """Price and redeem in one transaction; a retry of the order_id gets the first result."""
    request = _request(body, caller, settings)
    result = await complete_checkout(
        session, caller.store_id, request, body.order_id, settings.gift_card_hash_key
    )
    return FastJSONResponse(result)
