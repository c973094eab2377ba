"""Dependencies shared by the routes: the request's session and the caller (set by api.guard)."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from config import Settings
from models.database import DirectStatements
from services.ads.event_batches import AdEventBatches
from services.stores.service import Principal

bearer = HTTPBearer(auto_error=False)


# Async, as every dependency here: FastAPI runs a plain `def` one in a thread (a hop per request).
async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncSession:
    """The request's transaction, opened and committed by `api.guard` around the route."""
    session: AsyncSession = request.state.session
    return session


async def get_direct(request: Request) -> DirectStatements:
    """Statements run outside the request's transaction, on a pool of their own (hot reads)."""
    direct: DirectStatements = request.app.state.direct_statements
    return direct


async def get_ad_event_batches(request: Request) -> AdEventBatches:
    """Single ad events counted together with those other requests brought meanwhile."""
    batches: AdEventBatches = request.app.state.ad_event_batches
    return batches


SessionDep = Annotated[AsyncSession, Depends(get_session)]
DirectDep = Annotated[DirectStatements, Depends(get_direct)]
AdEventBatchesDep = Annotated[AdEventBatches, Depends(get_ad_event_batches)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


async def any_key(request: Request, credentials: Credentials) -> Principal:
    """The caller that `api.guard` authenticated before the body was read.

    `credentials` is declared so that the schema shows the bearer scheme; the guard checked it.
    """
    principal: Principal = request.state.principal
    return principal


async def secret_key(principal: Annotated[Principal, Depends(any_key)]) -> Principal:
    return principal  # the guard refused a publishable key already (403)


async def operator(credentials: Credentials) -> None:
    """Marks a route as the operator's; the guard compared the token."""


AnyKey = Annotated[Principal, Depends(any_key)]
SecretKey = Annotated[Principal, Depends(secret_key)]
Operator = Annotated[None, Depends(operator)]
