"""Dependencies shared by the routes: a session per request, committed here, and the caller."""

import hmac
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from config import Settings
from models.database import SessionMaker
from services.errors import Forbidden, Unauthorized
from services.stores import Principal, authenticate

bearer = HTTPBearer(auto_error=False)


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the route returns, rolled back on error."""
    sessionmaker: SessionMaker = request.app.state.sessionmaker
    async with sessionmaker.begin() as session:
        yield session


# scope="function": the commit happens before the response is sent, so a 2xx means stored.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


async def any_key(session: SessionDep, credentials: Credentials) -> Principal:
    if credentials is None:
        raise Unauthorized("missing API key: send Authorization: Bearer <key>")
    return await authenticate(session, credentials.credentials)


async def secret_key(principal: Annotated[Principal, Depends(any_key)]) -> Principal:
    if principal.key_kind != "secret":
        raise Forbidden("a publishable key cannot call this endpoint")
    return principal


def operator(settings: SettingsDep, credentials: Credentials) -> None:
    if credentials is None or not hmac.compare_digest(
        credentials.credentials.encode(), settings.operator_token.encode()
    ):
        raise Unauthorized("operator token required")


AnyKey = Annotated[Principal, Depends(any_key)]
SecretKey = Annotated[Principal, Depends(secret_key)]
Operator = Annotated[None, Depends(operator)]
