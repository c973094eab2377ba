"""Coupon codes of promotions: one at a time or in generated batches."""

from typing import Annotated

from fastapi import Query

from api.deps import SecretKey, SessionDep
from api.errors import ERROR_SCHEMA
from api.guard import guarded_router
from api.schemas.common import Page
from api.schemas.coupons import CouponBatchIn, CouponBatchOut, CouponIn, CouponOut
from services.checkout import coupons
from services.checkout.coupons import CouponTerms
from services.pagination import DEFAULT_LIMIT, MAX_LIMIT

router = guarded_router(
    prefix="/v1/coupons",
    tags=["coupons"],
    responses={401: ERROR_SCHEMA, 403: ERROR_SCHEMA, 422: ERROR_SCHEMA},
)


@router.post("", status_code=201, response_model=CouponOut, responses={409: ERROR_SCHEMA})
async def create_coupon(body: CouponIn, session: SessionDep, caller: SecretKey) -> CouponOut:
    """Create one code (given, or generated) for a promotion that requires a coupon."""
    terms = CouponTerms(body.usage, body.usage_limit, body.expires_at, body.customer_id)
    coupon = await coupons.create_coupon(
        session, caller.store_id, body.promotion_id, terms, code=body.code
    )
    return CouponOut.model_validate(coupon)


@router.post("/batch", status_code=201, response_model=CouponBatchOut)
async def create_batch(
    body: CouponBatchIn, session: SessionDep, caller: SecretKey
) -> CouponBatchOut:
    """Generate `count` unique codes (no 0/O/1/I/L) sharing the same terms."""
    terms = CouponTerms(body.usage, body.usage_limit, body.expires_at)
    codes = await coupons.create_coupon_batch(
        session, caller.store_id, body.promotion_id, terms, count=body.count, prefix=body.prefix
    )
    return CouponBatchOut(promotion_id=body.promotion_id, count=len(codes), codes=codes)


@router.get("", response_model=Page[CouponOut])
async def list_coupons(
    session: SessionDep,
    caller: SecretKey,
    promotion_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[CouponOut]:
    """The store's codes, newest first, optionally of one promotion."""
    rows, next_cursor = await coupons.list_coupons(
        session, caller.store_id, promotion_id=promotion_id, limit=limit, cursor=cursor
    )
    return Page(items=[CouponOut.model_validate(c) for c in rows], next_cursor=next_cursor)


@router.get("/{coupon_id}", response_model=CouponOut, responses={404: ERROR_SCHEMA})
async def get_coupon(coupon_id: str, session: SessionDep, caller: SecretKey) -> CouponOut:
    """One code with its use count."""
    return CouponOut.model_validate(await coupons.get_coupon(session, caller.store_id, coupon_id))


@router.delete("/{coupon_id}", response_model=CouponOut, responses={404: ERROR_SCHEMA})
async def disable_coupon(coupon_id: str, session: SessionDep, caller: SecretKey) -> CouponOut:
    """Withdraw a code: from now on checkout rejects it as expired."""
    coupon = await coupons.disable_coupon(session, caller.store_id, coupon_id)
    return CouponOut.model_validate(coupon)
