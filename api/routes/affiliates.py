"""Affiliates (docs/growth.md, "Affiliates"): staff manage affiliates and pay them out; a
storefront reports clicks on their links; orders earn commissions through the event log."""

from typing import Annotated

from fastapi import Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import AnyKey, SecretKey, SessionDep, SettingsDep
from api.errors import ERROR_SCHEMA
from api.guard import guarded_router
from api.schemas.affiliates import (
    AffiliateClickIn,
    AffiliateCommissionOut,
    AffiliateIn,
    AffiliateOut,
    AffiliatePatch,
    CommissionOut,
    PayoutOut,
    PayoutRuleOut,
)
from api.schemas.common import Page
from config import Settings
from flow_contract import CommissionStatus
from models import Affiliate, Store
from services.growth import affiliates, commissions, payouts
from services.growth.affiliates import CommissionRule, PayoutRule
from services.growth.payouts import PayoutStatus
from services.pagination import DEFAULT_LIMIT, MAX_LIMIT
from services.stores.settings import StoreDefaults

router = guarded_router(tags=["affiliates"], responses={401: ERROR_SCHEMA})
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


async def _out(session: AsyncSession, env: Settings, affiliate: Affiliate) -> AffiliateOut:
    store = await session.get(Store, affiliate.store_id)
    assert store is not None
    link = affiliates.link_of(store, StoreDefaults.from_settings(env), affiliate.code)
    return AffiliateOut(
        id=affiliate.id,
        code=affiliate.code,
        link=link,
        name=affiliate.name,
        email=affiliate.email,
        coupon_code=affiliate.coupon_code,
        commission=CommissionOut(type=affiliate.commission_type, value=affiliate.commission_value),
        cookie_days=affiliate.cookie_days,
        holding_days=affiliate.holding_days,
        payout=PayoutRuleOut(mode=affiliate.payout_mode, minimum=affiliate.payout_minimum),
        currency=affiliate.currency,
        active=affiliate.active,
        created_at=affiliate.created_at,
    )


@router.post(
    "/v1/affiliates",
    status_code=201,
    response_model=AffiliateOut,
    responses={409: ERROR_SCHEMA, 422: ERROR_SCHEMA},
)
async def create_affiliate(
    body: AffiliateIn, session: SessionDep, caller: SecretKey, env: SettingsDep
) -> AffiliateOut:
    """An affiliate with its code and link; 409 `coupon_code_taken`."""
    affiliate = await affiliates.create_affiliate(
        session,
        caller.store_id,
        name=body.name,
        email=body.email,
        commission=CommissionRule(body.commission.type, body.commission.value),
        payout=PayoutRule(body.payout.mode, body.payout.minimum),
        cookie_days=body.cookie_days,
        holding_days=body.holding_days,
        currency=body.currency,
        coupon_code=body.coupon_code,
    )
    return await _out(session, env, affiliate)


@router.get("/v1/affiliates", response_model=Page[AffiliateOut], responses={422: ERROR_SCHEMA})
async def list_affiliates(
    session: SessionDep,
    caller: SecretKey,
    env: SettingsDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[AffiliateOut]:
    """The store's affiliates, newest first."""
    rows, next_cursor = await affiliates.list_affiliates(
        session, caller.store_id, limit=limit, cursor=cursor
    )
    return Page(items=[await _out(session, env, r) for r in rows], next_cursor=next_cursor)


# The payouts and commissions of an affiliate come before its PATCH in the schema: the
# isolation test pays out the seeded affiliate before it tries a (random) PATCH on it.
@router.get(
    "/v1/affiliates/{affiliate_id}/commissions",
    response_model=Page[AffiliateCommissionOut],
    responses={422: ERROR_SCHEMA},
)
async def list_affiliate_commissions(
    affiliate_id: str,
    session: SessionDep,
    caller: SecretKey,
    status: CommissionStatus | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[AffiliateCommissionOut]:
    """The affiliate's commissions, newest first."""
    affiliate = await affiliates.get_affiliate(session, caller.store_id, affiliate_id)
    rows, next_cursor = await commissions.list_commissions(
        session, caller.store_id, affiliate.id, status=status, limit=limit, cursor=cursor
    )
    items = [AffiliateCommissionOut.model_validate(r) for r in rows]
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "/v1/affiliates/{affiliate_id}/payouts",
    status_code=201,
    response_model=PayoutOut,
    responses={409: ERROR_SCHEMA, 422: ERROR_SCHEMA},
)
async def create_payout(
    affiliate_id: str,
    session: SessionDep,
    caller: SecretKey,
    currency: Annotated[
        str | None, Query(pattern=r"^[A-Z]{3}$", description="Default: the affiliate's")
    ] = None,
) -> PayoutOut:
    """Pay out everything approved and unpaid, less open clawbacks: 409 `nothing_to_pay`,
    422 `below_minimum`."""
    payout = await payouts.create_payout(
        session,
        caller.store_id,
        affiliate_id,
        trigger="manual",
        currency=currency,
    )
    return PayoutOut.model_validate(payout)


@router.get("/v1/affiliates/{affiliate_id}", response_model=AffiliateOut)
async def get_affiliate(
    affiliate_id: str, session: SessionDep, caller: SecretKey, env: SettingsDep
) -> AffiliateOut:
    affiliate = await affiliates.get_affiliate(session, caller.store_id, affiliate_id)
    return await _out(session, env, affiliate)


@router.patch(
    "/v1/affiliates/{affiliate_id}",
    response_model=AffiliateOut,
    responses={409: ERROR_SCHEMA, 422: ERROR_SCHEMA},
)
async def update_affiliate(
    affiliate_id: str,
    body: AffiliatePatch,
    session: SessionDep,
    caller: SecretKey,
    env: SettingsDep,
) -> AffiliateOut:
    """Change the fields given; a new commission counts for orders placed from now on."""
    affiliate = await affiliates.update_affiliate(
        session, caller.store_id, affiliate_id, body.model_dump(exclude_unset=True)
    )
    return await _out(session, env, affiliate)


@router.get("/v1/payouts", response_model=Page[PayoutOut], responses={422: ERROR_SCHEMA})
async def list_payouts(
    session: SessionDep,
    caller: SecretKey,
    affiliate_id: Annotated[str | None, Query(max_length=200)] = None,
    status: PayoutStatus | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[PayoutOut]:
    """The store's payouts, newest first, with their lines."""
    rows, next_cursor = await payouts.list_payouts(
        session,
        caller.store_id,
        affiliate_id=affiliate_id,
        status=status,
        limit=limit,
        cursor=cursor,
    )
    return Page(items=[PayoutOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post("/v1/payouts/{payout_id}/mark-paid", response_model=PayoutOut)
async def mark_payout_paid(payout_id: str, session: SessionDep, caller: SecretKey) -> PayoutOut:
    """The platform has paid the affiliate (marking it again changes nothing)."""
    payout = await payouts.mark_paid(session, caller.store_id, payout_id)
    return PayoutOut.model_validate(payout)


@router.post(
    "/v1/storefront/affiliate-clicks",
    status_code=204,
    responses={404: ERROR_SCHEMA, 422: ERROR_SCHEMA},
)
async def record_affiliate_click(
    body: AffiliateClickIn, session: SessionDep, caller: AnyKey
) -> Response:
    """A visitor arrived through an affiliate's link (`?aff=CODE`); 404 for an unknown code."""
    await affiliates.record_click(
        session, caller.store_id, body.code, body.visitor_id, body.landing_url
    )
    return Response(status_code=204)
