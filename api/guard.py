"""Every route passes here after routing and before FastAPI reads its body: the caller is
authenticated and held to its rate limit, and the path, query and body are checked against the
input rule. A stranger's bad body therefore gets a 401, not a parse, and no handler can forget
the checks: every router is made by `guarded_router`, and a test holds every route to it."""

import hashlib
import hmac
from collections.abc import Callable, Coroutine, Iterator
from enum import StrEnum
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import compile_path

from api import deps
from api.errors import ERROR_JSON, ERROR_RESPONSE, RateLimited
from api.input_rules import REASON, bad_body_fields, bad_fields
from api.rate_limit import RateLimiter
from config import Settings
from models.database import SessionMaker
from services.errors import Forbidden, InvalidInput, Unauthorized
from services.stores.service import authenticate

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
UNLIMITED_PATHS = {"/healthz", "/readyz"}  # probes of load balancers are never throttled


class Access(StrEnum):
    """Who may call a route; shown in the OpenAPI schema as `x-access`."""

    PUBLIC = "public"  # no key (health, signed webhooks, unsubscribe links)
    OPERATOR = "operator"  # the deployment's operator token
    PUBLISHABLE = "publishable"  # a publishable or a secret key (storefront)
    SECRET = "secret"  # a secret key (admin)


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def access_of(dependant: Dependant) -> Access:
    calls = set(_calls(dependant))
    if deps.secret_key in calls:
        return Access.SECRET
    if deps.any_key in calls:
        return Access.PUBLISHABLE
    if deps.operator in calls:
        return Access.OPERATOR
    return Access.PUBLIC


def _standard_responses(path: str, access: Access) -> dict[int | str, dict[str, Any]]:
    """The statuses every route of this kind can answer, so the schema documents each of them."""
    statuses = [413, 422, 503]
    if path not in UNLIMITED_PATHS:
        statuses.append(429)
    if access is not Access.PUBLIC:
        statuses.append(401)
    if access is Access.SECRET:
        statuses.append(403)
    if compile_path(path)[2]:  # a path parameter names something that may not exist
        statuses.append(404)
    return {status: ERROR_RESPONSE for status in statuses}


class Limiters:
    """The api's two rate limits, built once from the settings (per replica)."""

    def __init__(self, settings: Settings) -> None:
        replicas = max(settings.api_replicas, 1)
        public = settings.public_rate_limit / replicas
        per_key = settings.key_rate_limit / replicas
        self.public = RateLimiter(public, burst=public * 3)
        self.per_key = RateLimiter(per_key, burst=per_key * 2)


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _check_rate(limiter: RateLimiter, key: str) -> None:
    wait = limiter.retry_after(key)
    if wait is not None:
        raise RateLimited(wait)


async def _authenticate(request: Request, access: Access, limited: bool) -> None:
    limiters: Limiters = request.app.state.limiters
    settings: Settings = request.app.state.settings
    presented = _bearer(request)
    if limited and access in (Access.PUBLIC, Access.PUBLISHABLE):
        _check_rate(limiters.public, _client_ip(request))
    if access is Access.PUBLIC:
        return
    if presented is None:
        raise Unauthorized("missing credentials: send Authorization: Bearer <key>")
    if access is Access.OPERATOR:
        if not hmac.compare_digest(presented.encode(), settings.operator_token.encode()):
            raise Unauthorized("operator token required")
        _check_rate(limiters.per_key, "operator")
        return
    principal = await authenticate(request.state.session, presented, settings.api_key_cache_seconds)
    if access is Access.SECRET:
        if principal.key_kind != "secret":
            raise Forbidden("a publishable key cannot call this endpoint")
        _check_rate(limiters.per_key, hashlib.sha256(presented.encode()).hexdigest())
    request.state.principal = principal


async def _check_input(request: Request) -> None:
    fields = bad_fields("path", request.path_params)
    fields += bad_fields("query", request.query_params.multi_items())
    if request.method in ("POST", "PUT", "PATCH"):
        body = await request.body()  # Starlette keeps it: the route reads the same bytes
        fields += bad_body_fields(body, request.headers.get("content-type", ""))
    if fields:
        raise InvalidInput(
            f"{fields[0]}: {REASON}", details=[{"field": f, "message": REASON} for f in fields]
        )


class GuardedRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        self.access = access_of(get_dependant(path=path, call=endpoint))
        # False: the request is one transaction. True (`@autocommit`): each statement commits
        # on its own (no BEGIN and COMMIT round trips), for hot routes that only read or whose
        # writes are each one statement or idempotent.
        self.autocommit: bool = getattr(endpoint, AUTOCOMMIT, False)
        responses = {**_standard_responses(path, self.access), **(kwargs.get("responses") or {})}
        if getattr(kwargs.get("response_class"), "media_type", None) == "text/html":
            # FastAPI would document a page's errors as text/html; they are JSON like any other.
            responses = {s: ERROR_JSON if r is ERROR_RESPONSE else r for s, r in responses.items()}
        kwargs["responses"] = responses
        kwargs["openapi_extra"] = {**(kwargs.get("openapi_extra") or {}), "x-access": self.access}
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        access, limited = self.access, self.path not in UNLIMITED_PATHS

        async def guarded(request: Request) -> Response:
            # One transaction per request, opened here so that the key lookup uses it too:
            # committed when the route returns (before the response is sent, so a 2xx means
            # stored), rolled back on any error. It connects only when first used.
            sessionmaker: SessionMaker = request.app.state.sessionmaker
            async with sessionmaker.begin() as session:
                request.state.session = session
                await _authenticate(request, access, limited)
                await _check_input(request)
                return await handler(request)

        async def guarded_autocommit(request: Request) -> Response:
            # Each statement commits on its own; the session is flushed and closed only if the
            # route used it (a checkout whose key is cached and whose read runs on the driver
            # does not: opening and closing it was 0.1 ms of CPU a request).
            autocommit_sessions: SessionMaker = request.app.state.autocommit_sessionmaker
            session = autocommit_sessions()
            request.state.session = session
            try:
                await _authenticate(request, access, limited)
                await _check_input(request)
                response = await handler(request)
                if _used(session):
                    await session.commit()
                return response
            finally:
                if _used(session):
                    await session.close()

        return guarded_autocommit if self.autocommit else guarded


def _used(session: AsyncSession) -> bool:
    return session.in_transaction() or bool(session.new or session.dirty or session.deleted)


AUTOCOMMIT = "_shopstar_autocommit"
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def autocommit(endpoint: Endpoint) -> Endpoint:
    """Marks a route as `GuardedRoute.autocommit`."""
    setattr(endpoint, AUTOCOMMIT, True)
    return endpoint


def guarded_router(**kwargs: Any) -> APIRouter:
    """The only way routes are made: every route is authenticated, limited and checked."""
    return APIRouter(route_class=GuardedRoute, **kwargs)
