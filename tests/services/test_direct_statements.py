"""The hot reads' own pool (`models.database.DirectStatements`): what the api sees when the database
goes away under it, as with any statement through SQLAlchemy."""

import asyncio

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from devstack.temporal import free_port
from models.database import DirectStatements, SessionMaker


async def test_a_statement_reads_its_row_with_the_drivers_parameters(database_url: str) -> None:
    direct = DirectStatements(database_url)
    try:
        row = await direct.first("select %(a)s::int + 1, %(b)s::text[]", {"a": 41, "b": ["x", "y"]})
        assert row is not None and list(row) == [42, ["x", "y"]]
        assert await direct.first("select 1 where false", {}) is None
    finally:
        await direct.dispose()


async def test_a_database_out_of_reach_is_sqlalchemys_operational_error() -> None:
    # The error the api answers 503 (service_unavailable) for, with Retry-After.
    direct = DirectStatements(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none")
    try:
        with pytest.raises(sa_exc.OperationalError):
            await direct.first("select 1", {})
    finally:
        await direct.dispose()


async def test_a_connection_the_server_dropped_is_replaced(
    database_url: str, sessionmaker: SessionMaker
) -> None:
    """A backend terminated while idle in the pool (a restart, an idle timeout): the next read
    gets a new connection instead of an error."""
    direct = DirectStatements(database_url, pool_size=1)
    try:
        pid = await _backend(direct)
        gone = text("select count(*) = 0 from pg_stat_activity where pid = :pid")
        async with sessionmaker.begin() as session:
            assert await session.scalar(text("select pg_terminate_backend(:pid)"), {"pid": pid})
        for _ in range(200):  # until the backend has exited (its socket is then closed)
            async with sessionmaker.begin() as session:
                if await session.scalar(gone, {"pid": pid}):
                    break
            await asyncio.sleep(0.05)
        assert await _backend(direct) != pid
    finally:
        await direct.dispose()


async def _backend(direct: DirectStatements) -> int:
    row = await direct.first("select pg_backend_pid()", {})
    assert row is not None
    return int(row[0])
