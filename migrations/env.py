"""Alembic environment: runs migrations on the async engine named by the settings (or by
`-x url=...` / the config's `sqlalchemy.url`, which the CLI and the tests set)."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import models
from config import get_settings

target_metadata = models.Base.metadata


def database_url() -> str:
    return context.config.get_main_option("sqlalchemy.url") or get_settings().require_database_url()


def run_sync(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_async() -> None:
    engine = create_async_engine(database_url())
    async with engine.connect() as connection:
        await connection.run_sync(run_sync)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(run_async())
