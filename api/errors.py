"""One envelope for every error: {"error": {"code", "message", "details"}}."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from services.errors import DomainError


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


ERROR_SCHEMA = {
    "content": {
        "application/json": {
            "example": error_body("invalid_input", "what was wrong", [{"field": "..."}])
        }
    }
}


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
    return JSONResponse(error_body(exc.code, exc.message, exc.details), status_code=exc.status_code)


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    body = error_body("invalid_input", "the request is not valid", _validation_details(exc))
    return JSONResponse(body, status_code=422)


async def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
