"""Group and flash deals (docs/growth.md): staff create and cancel them, the platform adds the
participants whose payment it authorized, and a storefront shows the progress."""

from typing import Annotated

from fastapi import Query, Response

from api.deps import AnyKey, SecretKey, SessionDep
from api.errors import ERROR_SCHEMA
from api.guard import guarded_router
from api.schemas.common import Page
from api.schemas.group_deals import GroupDealIn, GroupDealOut, ParticipantIn, StorefrontGroupDeal
from services.growth import deals
from services.pagination import DEFAULT_LIMIT, MAX_LIMIT

router = guarded_router(tags=["group deals"], responses={401: ERROR_SCHEMA})
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


@router.post(
    "/v1/group-deals", status_code=201, response_model=GroupDealOut, responses={422: ERROR_SCHEMA}
)
async def create_group_deal(
    body: GroupDealIn, session: SessionDep, caller: SecretKey
) -> GroupDealOut:
    """A deal on a product (or variant) of the catalog; its run starts within a second."""
    deal = await deals.create_deal(session, caller.store_id, **body.model_dump())
    return GroupDealOut.model_validate(deal)


@router.get("/v1/group-deals", response_model=Page[GroupDealOut], responses={422: ERROR_SCHEMA})
async def list_group_deals(
    session: SessionDep,
    caller: SecretKey,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[GroupDealOut]:
    """The store's deals, newest first."""
    rows, next_cursor = await deals.list_deals(session, caller.store_id, limit=limit, cursor=cursor)
    return Page(items=[GroupDealOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/v1/group-deals/{deal_id}", response_model=GroupDealOut)
async def get_group_deal(deal_id: str, session: SessionDep, caller: SecretKey) -> GroupDealOut:
    deal = await deals.get_deal(session, caller.store_id, deal_id)
    return GroupDealOut.model_validate(deal)


@router.post(
    "/v1/group-deals/{deal_id}/participants",
    status_code=201,
    response_model=GroupDealOut,
    responses={409: ERROR_SCHEMA, 422: ERROR_SCHEMA},
)
async def join_group_deal(
    deal_id: str, body: ParticipantIn, session: SessionDep, caller: SecretKey
) -> GroupDealOut:
    """Add a customer whose payment the platform authorized; 409 `deal_closed` or
    `already_joined`. The answer is the deal as it stands (capture at once if `activated`)."""
    deal = await deals.join(session, caller.store_id, deal_id, body.customer_id)
    return GroupDealOut.model_validate(deal)


@router.delete(
    "/v1/group-deals/{deal_id}/participants/{customer_id}",
    status_code=204,
    responses={409: ERROR_SCHEMA},
)
async def leave_group_deal(
    deal_id: str, customer_id: str, session: SessionDep, caller: SecretKey
) -> Response:
    """Take a participant out before the deal activated (409 after)."""
    await deals.leave(session, caller.store_id, deal_id, customer_id)
    return Response(status_code=204)


# Registered after the joins: the isolation test replays a join on a deal of its own before
# it tries the cancel (a cancelled deal takes no joins).
@router.post(
    "/v1/group-deals/{deal_id}/cancel", response_model=GroupDealOut, responses={409: ERROR_SCHEMA}
)
async def cancel_group_deal(deal_id: str, session: SessionDep, caller: SecretKey) -> GroupDealOut:
    """End a deal before activation: `deal.cancelled` tells the platform to void."""
    deal = await deals.cancel_deal(session, caller.store_id, deal_id)
    return GroupDealOut.model_validate(deal)


@router.get("/v1/storefront/group-deals/{deal_id}", response_model=StorefrontGroupDeal)
async def storefront_group_deal(
    deal_id: str, session: SessionDep, caller: AnyKey
) -> StorefrontGroupDeal:
    """Price, progress and end of a deal, for a product page (no customer ids)."""
    deal = await deals.get_deal(session, caller.store_id, deal_id)
    shown = GroupDealOut.model_validate(deal).model_dump(exclude={"activated_at", "created_at"})
    del shown["min_participants"]
    needed = max(deal.min_participants - deal.participants, 0)
    return StorefrontGroupDeal(**shown, needed=needed)
