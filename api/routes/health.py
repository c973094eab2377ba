"""Liveness and readiness; no key needed."""

import asyncio

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from temporalio.client import Client

from api.guard import guarded_router
from config import Settings

router = guarded_router(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


class Readiness(BaseModel):
    status: str
    database: str
    temporal: str


@router.get("/readyz", responses={200: {"model": Readiness}, 503: {"model": Readiness}})
async def readyz(request: Request) -> JSONResponse:
    """The database and Temporal are reachable (200), or not (503)."""
    settings: Settings = request.app.state.settings
    checks = {"database": "ok", "temporal": "ok"}
    try:
        async with request.app.state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        checks["database"] = "unreachable"
    try:
        client = await asyncio.wait_for(
            Client.connect(
                settings.require_temporal_address(), namespace=settings.temporal_namespace
            ),
            timeout=3,
        )
        await asyncio.wait_for(client.service_client.check_health(), timeout=3)
    except Exception:
        checks["temporal"] = "unreachable"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if ok else "unavailable", **checks}, 200 if ok else 503)
