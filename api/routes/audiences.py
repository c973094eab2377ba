"""Audiences (docs/channels.md, "Audiences"): hashed customer lists on Google Ads and Meta,
synced by difference every 6 hours by the worker."""

from typing import Annotated

from fastapi import Query

from api.deps import SecretKey, SessionDep
from api.errors import ERROR_SCHEMA
from api.guard import guarded_router
from api.schemas.audiences import AudienceIn, AudienceNetworkOut, AudienceOut, AudienceRule
from api.schemas.common import Page
from models import Audience
from services.channels import audiences
from services.channels.audiences import NetworkState
from services.pagination import DEFAULT_LIMIT, MAX_LIMIT

router = guarded_router(tags=["audiences"], responses={401: ERROR_SCHEMA})
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


def _out(audience: Audience, states: list[NetworkState]) -> AudienceOut:
    return AudienceOut(
        id=audience.id,
        name=audience.name,
        rule=AudienceRule.model_validate(audience.rule),
        networks=[AudienceNetworkOut.model_validate(s, from_attributes=True) for s in states],
        created_at=audience.created_at,
        updated_at=audience.updated_at,
    )


@router.post(
    "/v1/audiences", status_code=201, response_model=AudienceOut, responses={422: ERROR_SCHEMA}
)
async def create_audience(body: AudienceIn, session: SessionDep, caller: SecretKey) -> AudienceOut:
    """The customers who match the rule, have `consent.ads` and an email or a phone, uploaded
    hashed to each network; the first sync runs at once, then every 6 hours."""
    rule = body.rule.model_dump(mode="json", exclude_none=True)
    audience = await audiences.create_audience(
        session, caller.store_id, body.name, rule, list(body.networks)
    )
    states = await audiences.network_states(session, [audience.id])
    return _out(audience, states[audience.id])


@router.get("/v1/audiences", response_model=Page[AudienceOut], responses={422: ERROR_SCHEMA})
async def list_audiences(
    session: SessionDep,
    caller: SecretKey,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[AudienceOut]:
    """The store's audiences, newest first, with each network's members and last sync."""
    rows, next_cursor = await audiences.list_audiences(
        session, caller.store_id, limit=limit, cursor=cursor
    )
    states = await audiences.network_states(session, [r.id for r in rows])
    return Page(items=[_out(r, states[r.id]) for r in rows], next_cursor=next_cursor)


@router.get("/v1/audiences/{audience_id}", response_model=AudienceOut)
async def get_audience(audience_id: str, session: SessionDep, caller: SecretKey) -> AudienceOut:
    audience = await audiences.get_audience(session, caller.store_id, audience_id)
    states = await audiences.network_states(session, [audience.id])
    return _out(audience, states[audience.id])
