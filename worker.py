"""The worker process: the Temporal client, the worker (workflows and activities) and the relay."""

import asyncio
import logging

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from activities.flow_steps import FlowActivities
from config import Settings
from integrations.messaging import LogProvider, MessageProvider
from models.database import SessionMaker, create_engine, create_sessionmaker
from services.logging import configure_logging
from services.relay import Relay
from workflows.abandoned_cart import AbandonedCartWorkflow
from workflows.browse_reminder import BrowseReminderWorkflow
from workflows.return_purchase import ReturnPurchaseWorkflow

log = logging.getLogger("shopstar.worker")
WORKFLOWS = [AbandonedCartWorkflow, BrowseReminderWorkflow, ReturnPurchaseWorkflow]


async def connect_temporal(settings: Settings) -> Client:
    return await Client.connect(
        settings.require_temporal_address(),
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
    )


def message_provider(settings: Settings) -> MessageProvider:
    return LogProvider()


def build_worker(client: Client, sessionmaker: SessionMaker, settings: Settings) -> Worker:
    activities = FlowActivities(
        sessionmaker, message_provider(settings), settings.storefront_base_url
    )
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        activities=[
            activities.check_send_gate,
            activities.send_flow_message,
            activities.close_recovery_run,
        ],
        max_concurrent_activities=50,
    )


def build_relay(client: Client, sessionmaker: SessionMaker, settings: Settings) -> Relay:
    return Relay(
        sessionmaker,
        client,
        task_queue=settings.task_queue,
        batch_size=settings.relay_batch_size,
        concurrency=settings.relay_concurrency,
        poll_seconds=settings.relay_poll_seconds,
        listen_url=settings.require_database_url().replace("+psycopg", ""),
    )


async def run_worker(settings: Settings) -> None:
    """Run the worker and the relay until cancelled."""
    configure_logging(settings.log_level)
    engine = create_engine(settings.require_database_url())
    sessionmaker = create_sessionmaker(engine)
    client = await connect_temporal(settings)
    worker = build_worker(client, sessionmaker, settings)
    relay = build_relay(client, sessionmaker, settings)
    log.info("worker started", extra={"task_queue": settings.task_queue})
    try:
        async with worker:
            await relay.run()
    finally:
        await engine.dispose()


if __name__ == "__main__":
    from config import get_settings

    asyncio.run(run_worker(get_settings()))
