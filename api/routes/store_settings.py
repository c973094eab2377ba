"""The store's own settings: sender, links, UTM source, attribution window, quiet hours."""

from typing import Annotated

from fastapi import Query

from api.deps import SecretKey, SessionDep, SettingsDep
from api.errors import ERROR_SCHEMA
from api.guard import guarded_router
from api.schemas.common import Page
from api.schemas.store_settings import SettingsChangeOut
from services.pagination import DEFAULT_LIMIT, MAX_LIMIT
from services.stores.settings import (
    SettingsPatch,
    StoreDefaults,
    StoreSettings,
    patch_settings,
    read_settings,
    settings_history,
)

router = guarded_router(
    prefix="/v1/settings", tags=["settings"], responses={401: ERROR_SCHEMA, 403: ERROR_SCHEMA}
)


@router.get("", response_model=StoreSettings)
async def get_settings(session: SessionDep, caller: SecretKey, env: SettingsDep) -> StoreSettings:
    """The settings messages use now (the store's own, else the deployment's defaults)."""
    return await read_settings(session, caller.store_id, StoreDefaults.from_settings(env))


@router.patch("", response_model=StoreSettings, responses={422: ERROR_SCHEMA})
async def patch(
    body: SettingsPatch, session: SessionDep, caller: SecretKey, env: SettingsDep
) -> StoreSettings:
    """Change the fields given (null: back to the default); sends use them from now on."""
    defaults = StoreDefaults.from_settings(env)
    return await patch_settings(session, caller.store_id, caller.key_id, body, defaults)


@router.get("/history", response_model=Page[SettingsChangeOut], responses={422: ERROR_SCHEMA})
async def history(
    session: SessionDep,
    caller: SecretKey,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[SettingsChangeOut]:
    """Every change of the settings, newest first, with the key that made it."""
    rows, next_cursor = await settings_history(session, caller.store_id, limit=limit, cursor=cursor)
    return Page(items=[SettingsChangeOut.model_validate(r) for r in rows], next_cursor=next_cursor)
