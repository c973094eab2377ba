"""The async engine and session factory, built once per process from the settings."""

import select
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SessionMaker = async_sessionmaker[AsyncSession]


def create_engine(database_url: str, *, pool_size: int = 10) -> AsyncEngine:
    engine = create_async_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=20,
        # A failed statement's error must not carry its parameters (emails, phone numbers).
        hide_parameters=True,
    )
    event.listen(engine.sync_engine, "checkout", _check_alive)
    return engine


def _check_alive(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """What pool_pre_ping is for, without its SELECT 1 round trip on every checkout: a pooled
    connection is idle, so the server has nothing to say on it unless it went away (restart,
    idle timeout, terminated backend): then its socket reads as ready, or the driver already
    knows it is closed. The pool replaces such a connection and tries the next one."""
    connection = record.driver_connection
    if connection is None or connection.closed or connection.broken:
        raise DisconnectionError("connection closed")
    try:
        ready, _, _ = select.select([connection.pgconn.socket], [], [], 0)
    except (OSError, ValueError) as exc:
        raise DisconnectionError("connection socket unusable") from exc
    if ready:
        raise DisconnectionError("the server closed the connection")


def create_sessionmaker(engine: AsyncEngine) -> SessionMaker:
    return async_sessionmaker(engine, expire_on_commit=False)


def autocommit_sessionmaker(sessionmaker: SessionMaker) -> SessionMaker:
    """Sessions on the same pool whose statements each commit on their own: for work that is
    one statement, no BEGIN and COMMIT round trips."""
    engine: AsyncEngine = sessionmaker.kw["bind"]
    return create_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"))
