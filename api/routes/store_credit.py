"""Store credit: a customer's ledger, separate from gift cards."""

from typing import Annotated

from fastapi import Query

from api.deps import SecretKey, SessionDep
from api.errors import ERROR_SCHEMA
from api.guard import guarded_router
from api.schemas.common import Page
from api.schemas.store_credit import (
    StoreCreditBalance,
    StoreCreditEntryOut,
    StoreCreditIn,
    StoreCreditOut,
)
from services.checkout import store_credit
from services.pagination import DEFAULT_LIMIT, MAX_LIMIT

router = guarded_router(
    prefix="/v1/customers/{customer_id}/store-credit",
    tags=["store credit"],
    responses={401: ERROR_SCHEMA, 403: ERROR_SCHEMA, 422: ERROR_SCHEMA},
)


@router.post(
    "",
    status_code=201,
    response_model=StoreCreditEntryOut,
    responses={404: ERROR_SCHEMA, 409: ERROR_SCHEMA},
)
async def post_store_credit(
    customer_id: str, body: StoreCreditIn, session: SessionDep, caller: SecretKey
) -> StoreCreditEntryOut:
    """Credit (positive) or debit (negative) the customer; the balance never goes below zero."""
    entry = await store_credit.post_store_credit(
        session,
        caller.store_id,
        customer_id,
        amount=body.amount,
        currency=body.currency,
        reason=body.reason,
    )
    return StoreCreditEntryOut.model_validate(entry)


@router.get("", response_model=StoreCreditOut, responses={404: ERROR_SCHEMA})
async def get_store_credit(
    customer_id: str, session: SessionDep, caller: SecretKey
) -> StoreCreditOut:
    """Balances per currency and the latest entries."""
    balances = await store_credit.store_credit_balances(session, caller.store_id, customer_id)
    entries, _ = await store_credit.list_entries(
        session, caller.store_id, customer_id, limit=DEFAULT_LIMIT, cursor=None
    )
    return StoreCreditOut(
        customer_id=customer_id,
        balances=[StoreCreditBalance.model_validate(b) for b in balances],
        entries=[StoreCreditEntryOut.model_validate(e) for e in entries],
    )


@router.get("/entries", response_model=Page[StoreCreditEntryOut])
async def list_entries(
    customer_id: str,
    session: SessionDep,
    caller: SecretKey,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[StoreCreditEntryOut]:
    """Every entry of the ledger, newest first."""
    rows, next_cursor = await store_credit.list_entries(
        session, caller.store_id, customer_id, limit=limit, cursor=cursor
    )
    items = [StoreCreditEntryOut.model_validate(e) for e in rows]
    return Page(items=items, next_cursor=next_cursor)
