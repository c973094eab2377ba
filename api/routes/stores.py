"""Store provisioning and API keys (operator token)."""

from fastapi import Response

from api.deps import Operator, SessionDep
from api.errors import ERROR_SCHEMA
from api.guard import guarded_router
from api.schemas.stores import KeyCreate, KeyOut, StoreCreate, StoreOut
from services.stores import service as stores

router = guarded_router(prefix="/v1/stores", tags=["stores"], responses={401: ERROR_SCHEMA})


@router.post("", status_code=201, response_model=StoreOut)
async def create_store(body: StoreCreate, session: SessionDep, _: Operator) -> StoreOut:
    """Provision a store; its first secret and publishable keys are shown once."""
    store, keys = await stores.create_store(
        session, name=body.name, currency=body.currency, timezone=body.timezone
    )
    return StoreOut(
        id=store.id,
        name=store.name,
        currency=store.currency,
        timezone=store.timezone,
        keys=[KeyOut(id=k.id, kind=k.kind, key=k.key) for k in keys],
    )


@router.post(
    "/{store_id}/keys", status_code=201, response_model=KeyOut, responses={404: ERROR_SCHEMA}
)
async def issue_key(store_id: str, body: KeyCreate, session: SessionDep, _: Operator) -> KeyOut:
    """Issue another key for a store; shown once."""
    await stores.get_store(session, store_id)
    key = await stores.issue_key(session, store_id, body.kind)
    return KeyOut(id=key.id, kind=key.kind, key=key.key)


@router.delete("/{store_id}/keys/{key_id}", status_code=204, responses={404: ERROR_SCHEMA})
async def revoke_key(store_id: str, key_id: str, session: SessionDep, _: Operator) -> Response:
    """Revoke a key: it stops working at once."""
    await stores.revoke_key(session, store_id, key_id)
    return Response(status_code=204)
