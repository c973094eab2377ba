"""Promotions: rule-based discounts, automatic or behind a coupon code."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query

from api.deps import SecretKey, SessionDep
from api.errors import ERROR_SCHEMA
from api.guard import guarded_router
from api.schemas.common import Page
from api.schemas.promotions import PromotionIn, PromotionOut, PromotionPatch
from models import Promotion
from services.checkout import promotions
from services.pagination import DEFAULT_LIMIT, MAX_LIMIT

router = guarded_router(
    prefix="/v1/promotions",
    tags=["promotions"],
    responses={401: ERROR_SCHEMA, 403: ERROR_SCHEMA, 422: ERROR_SCHEMA},
)


def _out(promotion: Promotion) -> PromotionOut:
    columns = {n: getattr(promotion, n) for n in PromotionOut.model_fields if n != "status"}
    status = promotions.promotion_status(promotion, datetime.now(UTC))
    return PromotionOut.model_validate({**columns, "status": status})


@router.post("", status_code=201, response_model=PromotionOut)
async def create_promotion(
    body: PromotionIn, session: SessionDep, caller: SecretKey
) -> PromotionOut:
    """Create a promotion; conditions and actions are checked field by field."""
    promotion = await promotions.create_promotion(session, caller.store_id, body.model_dump())
    return _out(promotion)


@router.get("", response_model=Page[PromotionOut])
async def list_promotions(
    session: SessionDep,
    caller: SecretKey,
    status: promotions.Status | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[PromotionOut]:
    """The store's promotions, newest first, optionally by status."""
    rows, next_cursor = await promotions.list_promotions(
        session, caller.store_id, status=status, limit=limit, cursor=cursor
    )
    return Page(items=[_out(p) for p in rows], next_cursor=next_cursor)


@router.get("/{promotion_id}", response_model=PromotionOut, responses={404: ERROR_SCHEMA})
async def get_promotion(promotion_id: str, session: SessionDep, caller: SecretKey) -> PromotionOut:
    """One promotion with its status."""
    return _out(await promotions.get_promotion(session, caller.store_id, promotion_id))


@router.patch(
    "/{promotion_id}",
    response_model=PromotionOut,
    responses={404: ERROR_SCHEMA, 409: ERROR_SCHEMA},
)
async def update_promotion(
    promotion_id: str, body: PromotionPatch, session: SessionDep, caller: SecretKey
) -> PromotionOut:
    """Change the fields given; the promotion is checked again as a whole."""
    changes = body.model_dump(exclude_unset=True)
    promotion = await promotions.update_promotion(session, caller.store_id, promotion_id, changes)
    return _out(promotion)


@router.delete("/{promotion_id}", response_model=PromotionOut, responses={404: ERROR_SCHEMA})
async def delete_promotion(
    promotion_id: str, session: SessionDep, caller: SecretKey
) -> PromotionOut:
    """End a promotion now (soft delete): it and its codes stop applying, its history stays."""
    return _out(await promotions.disable_promotion(session, caller.store_id, promotion_id))
