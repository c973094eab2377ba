"""An order's conversions for the ad networks (docs/channels.md, "Conversions")."""

from typing import Annotated

from fastapi import Query

from api.deps import SecretKey, SessionDep
from api.errors import ERROR_SCHEMA
from api.guard import guarded_router
from api.schemas.conversions import ConversionList, ConversionOut
from services.channels.conversions import for_order

router = guarded_router(tags=["channels"], responses={401: ERROR_SCHEMA, 403: ERROR_SCHEMA})


@router.get("/v1/conversions", response_model=ConversionList, responses={422: ERROR_SCHEMA})
async def list_conversions(
    order_id: Annotated[str, Query(min_length=1, max_length=200)],
    session: SessionDep,
    caller: SecretKey,
) -> ConversionList:
    """Each conversion and adjustment of the order, with its attempts and the network's last
    answer. An order with none (no click id, no consent, no connection) has an empty list."""
    rows = await for_order(session, caller.store_id, order_id)
    return ConversionList(
        items=[
            ConversionOut.model_validate(r, from_attributes=True)  # ids and our words only
            for r in rows
        ]
    )
