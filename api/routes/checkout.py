"""Checkout: price a cart, and complete it atomically at order time."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import AnyKey, SecretKey, SessionDep, SettingsDep
from api.errors import ERROR_SCHEMA
from api.schemas.checkout import CheckoutCompleteIn, CheckoutIn, CompletedOut, PricedCartOut
from services.checkout import complete_checkout, evaluate_checkout
from services.checkout_inputs import CheckoutItem, CheckoutRequest

router = APIRouter(
    prefix="/v1/checkout",
    tags=["checkout"],
    responses={401: ERROR_SCHEMA, 422: ERROR_SCHEMA},
)


def _request(body: CheckoutIn) -> CheckoutRequest:
    return CheckoutRequest(
        currency=body.currency,
        items=tuple(
            CheckoutItem(i.product_id, i.variant_id, i.quantity, i.unit_price) for i in body.items
        ),
        shipping=body.shipping,
        customer_id=body.customer_id,
        coupon_codes=tuple(body.coupon_codes),
        gift_card_codes=tuple(body.gift_card_codes),
        store_credit=body.store_credit,
    )


# The priced cart is built to the contract's shape by the pricing types; it is sent as is rather
# than validated a second time against the response model (which documents it).
@router.post("/evaluate", response_model=PricedCartOut)
async def evaluate(
    body: CheckoutIn, session: SessionDep, caller: AnyKey, settings: SettingsDep
) -> JSONResponse:
    """Price a cart with its codes; nothing is recorded."""
    result = await evaluate_checkout(
        session, caller.store_id, _request(body), settings.gift_card_hash_key
    )
    return JSONResponse(result)


@router.post(
    "/complete",
    response_model=CompletedOut,
    responses={403: ERROR_SCHEMA, 409: ERROR_SCHEMA},
)
async def complete(
    body: CheckoutCompleteIn, session: SessionDep, caller: SecretKey, settings: SettingsDep
) -> JSONResponse:
    """Price and redeem in one transaction; a retry of the order_id gets the first result."""
    result = await complete_checkout(
        session, caller.store_id, _request(body), body.order_id, settings.gift_card_hash_key
    )
    return JSONResponse(result)
