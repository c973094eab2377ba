"""Recommendations: staff pins (secret key) and what the storefront shows (publishable key)."""

from typing import Annotated

from fastapi import Query

from api.deps import AnyKey, SecretKey, SessionDep
from api.errors import ERROR_SCHEMA
from api.guard import guarded_router
from api.schemas.recommendations import PinsIn, PinsOut, RecommendationsOut, RecommendedProduct
from services.checkout import recommendations
from services.checkout.recommendations import Kind

router = guarded_router(tags=["recommendations"], responses={401: ERROR_SCHEMA, 404: ERROR_SCHEMA})


@router.put(
    "/v1/products/{product_id}/recommendations",
    response_model=PinsOut,
    responses={403: ERROR_SCHEMA, 422: ERROR_SCHEMA},
)
async def put_pins(
    product_id: str, body: PinsIn, session: SessionDep, caller: SecretKey
) -> PinsOut:
    """Replace the products pinned first for this one, per kind, in order."""
    pins = await recommendations.set_pins(
        session,
        caller.store_id,
        product_id,
        {"upsell": body.upsell, "cross_sell": body.cross_sell},
    )
    return PinsOut(product_id=product_id, **pins)


@router.get(
    "/v1/products/{product_id}/recommendations",
    response_model=PinsOut,
    responses={403: ERROR_SCHEMA},
)
async def get_pins(product_id: str, session: SessionDep, caller: SecretKey) -> PinsOut:
    """The products pinned for this one."""
    pins = await recommendations.get_pins(session, caller.store_id, product_id)
    return PinsOut(product_id=product_id, **pins)


@router.get(
    "/v1/storefront/products/{product_id}/recommendations",
    response_model=RecommendationsOut,
    responses={422: ERROR_SCHEMA},
)
async def recommend(
    product_id: str,
    session: SessionDep,
    caller: AnyKey,
    type: Kind,
    limit: Annotated[int, Query(ge=1, le=50)] = 4,
) -> RecommendationsOut:
    """Pinned products first, then same-category ones (upsell: dearer only); all available."""
    picked = await recommendations.recommend(session, caller.store_id, product_id, type, limit)
    items = [
        RecommendedProduct.model_validate(product).model_copy(update={"pinned": pinned})
        for product, pinned in picked
    ]
    return RecommendationsOut(product_id=product_id, type=type, items=items)
