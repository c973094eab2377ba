"""Liveness and readiness; no key needed."""

import asyncio
import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from temporalio.client import Client

from api.guard import guarded_router
from config import Settings

router = guarded_router(tags=["health"])
log = logging.getLogger("shopstar.api.health")
PROBE_TIMEOUT = 3.0


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


async def _temporal(app: FastAPI) -> Client:
    """One client for every probe, connected at the first (a client holds a connection and
    threads; one per probe would pile them up). It reconnects by itself if Temporal restarts."""
    client: Client | None = getattr(app.state, "readiness_client", None)
    if client is None:
        settings: Settings = app.state.settings
        client = await asyncio.wait_for(
            Client.connect(
                settings.require_temporal_address(), namespace=settings.temporal_namespace
            ),
            timeout=PROBE_TIMEOUT,
        )
        # Two first probes at once may both connect: the second keeps its own, no harm done.
        app.state.readiness_client = client
    return client


class Readiness(BaseModel):
    status: str
    database: str
    temporal: str


@router.get("/readyz", responses={200: {"model": Readiness}, 503: {"model": Readiness}})
async def readyz(request: Request) -> JSONResponse:
    """The database and Temporal are reachable (200), or not (503)."""
    checks = {"database": "ok", "temporal": "ok"}
    try:
        async with request.app.state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        checks["database"] = "unreachable"
        log.warning("not ready: the database is unreachable", extra={"error": repr(exc)})
    try:
        client = await _temporal(request.app)
        await asyncio.wait_for(client.service_client.check_health(), timeout=PROBE_TIMEOUT)
    except Exception as exc:
        checks["temporal"] = "unreachable"
        log.warning("not ready: Temporal is unreachable", extra={"error": repr(exc)})
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if ok else "unavailable", **checks}, 200 if ok else 503)
