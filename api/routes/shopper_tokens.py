"""Shopper tokens: what lets a publishable key price a cart for one signed-in customer."""

from datetime import UTC, datetime

from api.deps import SecretKey, SettingsDep
from api.errors import ERROR_SCHEMA
from api.guard import guarded_router
from api.schemas.shopper_tokens import ShopperTokenIn, ShopperTokenOut
from services.checkout.shopper_tokens import issue_shopper_token

router = guarded_router(
    prefix="/v1/shopper-tokens",
    tags=["checkout"],
    responses={401: ERROR_SCHEMA, 403: ERROR_SCHEMA, 422: ERROR_SCHEMA},
)


@router.post("", response_model=ShopperTokenOut)
async def create_shopper_token(
    body: ShopperTokenIn, caller: SecretKey, settings: SettingsDep
) -> ShopperTokenOut:
    """A short-lived signed token for this customer (secret key: call it from your backend once
    the shopper has signed in, and hand the token to the storefront). Nothing is stored."""
    token, expires_at = issue_shopper_token(
        settings.shopper_token_secret,
        caller.store_id,
        body.customer_id,
        datetime.now(UTC),
        body.ttl_seconds,
    )
    return ShopperTokenOut(token=token, expires_at=expires_at)
