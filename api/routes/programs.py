"""The referral and sharing programs (docs/growth.md): staff set them and follow the referrals;
the platform reads a customer's code and makes share links; a storefront counts the visits a
share link brings."""

from typing import Annotated

from fastapi import Query

from api.deps import AnyKey, SecretKey, SessionDep, SettingsDep
from api.errors import ERROR_SCHEMA, RateLimited
from api.guard import guarded_router
from api.rate_limit import RateLimiter
from api.schemas.common import Page
from api.schemas.programs import (
    CustomerReferral,
    Earned,
    ReferralOut,
    ReferralProgramOut,
    ShareLinkIn,
    ShareLinkOut,
    ShareVisitIn,
    ShareVisitOut,
    SharingProgramOut,
)
from services.growth import referrals, sharing
from services.growth.referrals import ReferralProgram
from services.growth.sharing import SharingProgram
from services.pagination import DEFAULT_LIMIT, MAX_LIMIT
from services.stores.settings import StoreDefaults, read_settings

router = guarded_router(tags=["growth programs"], responses={401: ERROR_SCHEMA})
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
# Per share token, in this process: a sharer cannot script visits through their own link
# faster than people click (a burst of 60, then 2 a second).
VISITS_PER_TOKEN = RateLimiter(rate=2.0, burst=60)


@router.put(
    "/v1/programs/referral", response_model=ReferralProgramOut, responses={422: ERROR_SCHEMA}
)
async def put_referral_program(
    body: ReferralProgram, session: SessionDep, caller: SecretKey
) -> ReferralProgramOut:
    """Set the program; referrals already made keep the rewards of their time."""
    saved = await referrals.put_program(session, caller.store_id, body)
    return ReferralProgramOut.model_validate(saved.model_dump())


@router.get("/v1/programs/referral", response_model=ReferralProgramOut)
async def get_referral_program(session: SessionDep, caller: SecretKey) -> ReferralProgramOut:
    program = await referrals.get_program(session, caller.store_id)
    return (
        ReferralProgramOut.model_validate(program.model_dump())
        if program
        else (ReferralProgramOut())
    )


@router.get(
    "/v1/customers/{customer_id}/referral",
    response_model=CustomerReferral,
    responses={404: ERROR_SCHEMA},
)
async def customer_referral(
    customer_id: str, session: SessionDep, caller: SecretKey, env: SettingsDep
) -> CustomerReferral:
    """The customer's own code (made on the first read) and link, and what they earned."""
    code = await referrals.code_of(session, caller.store_id, customer_id)
    shown = await read_settings(session, caller.store_id, StoreDefaults.from_settings(env))
    return CustomerReferral(
        customer_id=customer_id,
        code=code,
        link=referrals.share_url(shown.storefront_base_url, ref=code),
        earned=Earned(**await referrals.earned(session, caller.store_id, customer_id)),
    )


@router.get("/v1/referrals", response_model=Page[ReferralOut], responses={422: ERROR_SCHEMA})
async def list_referrals(
    session: SessionDep,
    caller: SecretKey,
    referrer_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[ReferralOut]:
    """The referrals orders made, newest first, with their status and reason."""
    rows, next_cursor = await referrals.list_referrals(
        session, caller.store_id, referrer_id=referrer_id, limit=limit, cursor=cursor
    )
    return Page(items=[ReferralOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.put("/v1/programs/sharing", response_model=SharingProgramOut, responses={422: ERROR_SCHEMA})
async def put_sharing_program(
    body: SharingProgram, session: SessionDep, caller: SecretKey
) -> SharingProgramOut:
    saved = await sharing.put_program(session, caller.store_id, body)
    return SharingProgramOut.model_validate(saved.model_dump())


@router.get("/v1/programs/sharing", response_model=SharingProgramOut)
async def get_sharing_program(session: SessionDep, caller: SecretKey) -> SharingProgramOut:
    program = await sharing.get_program(session, caller.store_id)
    return (
        SharingProgramOut.model_validate(program.model_dump()) if program else (SharingProgramOut())
    )


@router.post(
    "/v1/share-links",
    status_code=201,
    response_model=ShareLinkOut,
    responses={404: ERROR_SCHEMA, 409: ERROR_SCHEMA, 422: ERROR_SCHEMA},
)
async def create_share_link(
    body: ShareLinkIn, session: SessionDep, caller: SecretKey, env: SettingsDep
) -> ShareLinkOut:
    """A customer's link to the storefront (or a product's page), with its token and the
    sharing UTM tags; 409 `program_disabled` while the program is off."""
    shown = await read_settings(session, caller.store_id, StoreDefaults.from_settings(env))
    link = await sharing.create_link(
        session, caller.store_id, body.customer_id, body.product_id, shown.storefront_base_url
    )
    return ShareLinkOut.model_validate(link)


@router.post(
    "/v1/storefront/share-visits",
    response_model=ShareVisitOut,
    responses={404: ERROR_SCHEMA, 422: ERROR_SCHEMA, 429: ERROR_SCHEMA},
)
async def share_visit(body: ShareVisitIn, session: SessionDep, caller: AnyKey) -> ShareVisitOut:
    """A visitor arrived through a share link: counted once per visitor (the sharer's own
    visits are not); 429 when one token is hit faster than people click."""
    wait = VISITS_PER_TOKEN.retry_after(f"{caller.store_id}:{body.token}")
    if wait is not None:
        raise RateLimited(wait)
    out = await sharing.record_visit(session, caller.store_id, body.token, body.visitor_id)
    return ShareVisitOut(**out)
