"""The `shopstar-marketing` command: the local stack, the api, the worker, migrations, stores."""

import asyncio
import contextlib
import json
import logging
import os
import re
import signal
import subprocess
import sys
from collections.abc import Coroutine
from typing import Annotated, Any, NoReturn

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console

from config import Settings, get_settings, settings_error_text
from devstack.migrate import PROJECT_ROOT, upgrade_database
from devstack.seed import ensure_demo_store
from models.database import create_engine, create_sessionmaker
from services.errors import DomainError
from services.stores.service import create_store

app = typer.Typer(
    help="ShopSTAR3 marketing engine: store-scoped marketing automation.",
    no_args_is_help=True,
    add_completion=False,
)
store_app = typer.Typer(help="Stores and their API keys.", no_args_is_help=True)
app.add_typer(store_app, name="store")
err = Console(stderr=True)


def _settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:  # printed without the values: they may be secrets
        err.print("[red]Invalid settings:[/]")
        err.print(settings_error_text(exc), markup=False, highlight=False)
        raise typer.Exit(2) from None


def _development() -> None:
    """The local tools (`dev`, `seed`) run in development unless told otherwise; the default
    everywhere else is production, which refuses the well-known development secrets."""
    os.environ.setdefault("SHOPSTAR_ENVIRONMENT", "development")


def _exit_now(code: int) -> NoReturn:
    """End a process that held Temporal clients, after its clean shutdown, without interpreter
    finalization: the client's Rust threads can still call into Python while it finalizes, which
    aborts with `Fatal Python error: PyGILState_Release` (temporalio/sdk-python#300)."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def _database_url(settings: Settings) -> str:
    try:
        return settings.require_database_url()
    except RuntimeError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc


async def _until_signal(work: Coroutine[Any, Any, None]) -> None:
    """Run until done, or until SIGINT/SIGTERM cancels it (so `docker stop` shuts down cleanly)."""
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        if not task.cancelled():
            raise


@app.command()
def dev(
    api: Annotated[bool, typer.Option("--api/--no-api", help="Start the api.")] = True,
    worker: Annotated[bool, typer.Option("--worker/--no-worker", help="Start the worker.")] = True,
) -> None:
    """Run the whole stack locally: PostgreSQL, Temporal, the api and the worker (Ctrl-C stops)."""
    from devstack.stack import DevOptions, run_dev_stack  # the embedded servers: only for `dev`

    _development()  # the api and the worker inherit it
    settings = _settings()
    if settings.environment == "production":
        err.print("[red]`dev` runs embedded servers: not with SHOPSTAR_ENVIRONMENT=production.")
        raise typer.Exit(2)
    options = DevOptions(
        data_dir=settings.data_dir,
        operator_token=settings.operator_token,
        database_url=settings.database_url,
        temporal_address=settings.temporal_address,
        api_host=settings.api_host,
        api_port=settings.api_port,
        start_api=api,
        start_worker=worker,
    )
    _exit_now(asyncio.run(run_dev_stack(options, Console())))


@app.command("api")
def api_command(
    host: Annotated[str | None, typer.Option(help="Default: SHOPSTAR_API_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Default: SHOPSTAR_API_PORT.")] = None,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
) -> None:
    """Serve the HTTP API (uvicorn, `api.main:create_app`)."""
    settings = _settings()
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=host or settings.api_host,
        port=port or settings.api_port,
        reload=reload,
        log_config=None,  # the app configures JSON logging for uvicorn's loggers too
    )
    _exit_now(0)  # /readyz keeps a Temporal client


@app.command("worker")
def worker_command() -> None:
    """Run the Temporal worker and the event relay until SIGINT/SIGTERM."""
    from worker import run_worker  # imported here: the other commands need no Temporal worker

    asyncio.run(_until_signal(run_worker(_settings())))
    _exit_now(0)


@app.command()
def migrate() -> None:
    """Upgrade the database (DATABASE_URL) to the newest migration."""
    upgrade_database(_database_url(_settings()))
    err.print("[green]Database is at the newest revision.")


@app.command()
def seed() -> None:
    """Create the demo store (and its abandoned-cart flow) unless the data folder names one."""
    _development()
    settings = _settings()

    async def run() -> dict[str, Any]:
        engine = create_engine(_database_url(settings), pool_size=1)
        try:
            path = settings.data_dir / "demo-store.json"
            demo = await ensure_demo_store(create_sessionmaker(engine), path)
        finally:
            await engine.dispose()
        return {
            "id": demo.store_id,
            "secret_key": demo.secret_key,
            "publishable_key": demo.publishable_key,
        }

    typer.echo(json.dumps(asyncio.run(run()), indent=2))


@store_app.command("create")
def store_create(
    name: Annotated[str, typer.Option(help="The store's name.")],
    currency: Annotated[str, typer.Option(help="ISO 4217 code, e.g. USD.")],
    timezone: Annotated[str, typer.Option(help="IANA time zone, e.g. America/New_York.")],
) -> None:
    """Provision a store and print its id and first keys as JSON (keys are shown once)."""
    if not re.fullmatch(r"[A-Za-z]{3}", currency):
        err.print("[red]--currency must be an ISO 4217 code such as USD.")
        raise typer.Exit(2)
    settings = _settings()

    async def run() -> dict[str, Any]:
        engine = create_engine(_database_url(settings), pool_size=1)
        try:
            async with create_sessionmaker(engine).begin() as session:
                store, keys = await create_store(
                    session, name=name, currency=currency, timezone=timezone
                )
        finally:
            await engine.dispose()
        return {
            "id": store.id,
            "name": store.name,
            "currency": store.currency,
            "timezone": store.timezone,
            "keys": [{"id": key.id, "kind": key.kind, "key": key.key} for key in keys],
        }

    try:
        result = asyncio.run(run())
    except DomainError as exc:
        err.print(f"[red]{exc.message}")
        raise typer.Exit(2) from exc
    typer.echo(json.dumps(result, indent=2))


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,  # `bench --help` is the benchmarks' own help
)
def bench(ctx: typer.Context) -> None:
    """Run the benchmarks (`python -m bench`); extra arguments are passed on."""
    code = subprocess.call([sys.executable, "-m", "bench", *ctx.args], cwd=PROJECT_ROOT)
    raise typer.Exit(code)


if __name__ == "__main__":
    app()
