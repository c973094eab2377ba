"""Bundles: products sold together at a discount."""

from typing import Annotated

from fastapi import Query

from api.deps import SecretKey, SessionDep
from api.errors import ERROR_SCHEMA
from api.guard import guarded_router
from api.schemas.bundles import BundleIn, BundleOut
from api.schemas.common import Page
from services.checkout import bundles
from services.pagination import DEFAULT_LIMIT, MAX_LIMIT

router = guarded_router(
    prefix="/v1/bundles",
    tags=["bundles"],
    responses={401: ERROR_SCHEMA, 403: ERROR_SCHEMA, 422: ERROR_SCHEMA},
)


@router.post("", status_code=201, response_model=BundleOut)
async def create_bundle(body: BundleIn, session: SessionDep, caller: SecretKey) -> BundleOut:
    """Create a bundle; every component must be a product or variant of the catalog."""
    body_fields = body.model_dump(exclude_none=True)
    bundle = await bundles.create_bundle(session, caller.store_id, body_fields)
    return BundleOut.model_validate(bundle)


@router.get("", response_model=Page[BundleOut])
async def list_bundles(
    session: SessionDep,
    caller: SecretKey,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[BundleOut]:
    """The store's bundles, newest first."""
    rows, next_cursor = await bundles.list_bundles(
        session, caller.store_id, limit=limit, cursor=cursor
    )
    return Page(items=[BundleOut.model_validate(b) for b in rows], next_cursor=next_cursor)


@router.get("/{bundle_id}", response_model=BundleOut, responses={404: ERROR_SCHEMA})
async def get_bundle(bundle_id: str, session: SessionDep, caller: SecretKey) -> BundleOut:
    """One bundle."""
    return BundleOut.model_validate(await bundles.get_bundle(session, caller.store_id, bundle_id))


@router.delete("/{bundle_id}", response_model=BundleOut, responses={404: ERROR_SCHEMA})
async def delete_bundle(bundle_id: str, session: SessionDep, caller: SecretKey) -> BundleOut:
    """Stop a bundle from applying (soft delete)."""
    bundle = await bundles.disable_bundle(session, caller.store_id, bundle_id)
    return BundleOut.model_validate(bundle)
