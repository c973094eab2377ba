"""One envelope for every error: {"error": {"code", "message", "details"}}, whatever went wrong:
a domain rule, bad input, a body that is not JSON or too large, a limit, a dependency that is
down (503 with Retry-After, so a platform retries), or a bug (500, logged, details withheld)."""

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException

from services.errors import DomainError

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5  # what a client waits before retrying when a dependency is down


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorEnvelope(BaseModel):
    error: ErrorBody


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


ERROR_RESPONSE: dict[str, Any] = {
    "model": ErrorEnvelope,
    "description": "An error, in the envelope",
}
ERROR_SCHEMA = ERROR_RESPONSE  # the name the routes use
# The same, by reference, for routes whose own answers are not JSON (pages).
ERROR_JSON: dict[str, Any] = {
    "description": ERROR_RESPONSE["description"],
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
}


class RateLimited(DomainError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many requests: retry after {retry_after} s")
        self.headers = {"Retry-After": str(retry_after)}


def _json(
    status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        # Only the leading "body" is the request's: a field may be called `body` too.
        {"field": ".".join(str(p) for p in _strip_body(err["loc"])), "message": err["msg"]}
        for err in exc.errors()
    ]


def _strip_body(loc: Any) -> list[Any]:
    return list(loc[1:] if loc[:1] == ("body",) else loc)


async def _domain(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    body = error_body(exc.code, exc.message, exc.details)
    return _json(exc.status_code, body, getattr(exc, "headers", None))


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    if any(err.get("type") == "json_invalid" for err in exc.errors()):
        return _json(422, error_body("invalid_json", "the body is not valid JSON"))
    body = error_body("invalid_input", "the request is not valid", _validation_details(exc))
    return _json(422, body)


_HTTP_CODES = {
    400: "invalid_body",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}


async def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    if status == 400:  # FastAPI could not parse the body (not UTF-8, a broken form)
        status = 422
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return _json(status, error_body(code, str(exc.detail)), exc.headers)


async def _unavailable(_: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable: %s", type(exc).__name__)
    body = error_body("service_unavailable", "the database is not reachable; retry later")
    return _json(503, body, {"Retry-After": str(RETRY_AFTER_SECONDS)})


async def _dbapi(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, sa_exc.DBAPIError)
    if exc.connection_invalidated:
        return await _unavailable(request, exc)
    return await _internal(request, exc)


async def _internal(_: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error", exc_info=exc)
    return _json(500, error_body("internal_error", "something went wrong on our side"))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    # A database that is down or restarting: the platform retries, nothing was accepted.
    for unavailable in (
        sa_exc.OperationalError,
        sa_exc.InterfaceError,
        sa_exc.TimeoutError,
        ConnectionError,
    ):
        app.add_exception_handler(unavailable, _unavailable)
    app.add_exception_handler(sa_exc.DBAPIError, _dbapi)
    app.add_exception_handler(Exception, _internal)
