"""The worker process: the Temporal client, the worker (workflows and activities) and the relay."""

import asyncio
import logging

from temporalio.client import Client
from temporalio.worker import Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxRestrictions

from activities.affiliates import AffiliateActivities
from activities.audiences import AudienceActivities
from activities.catalog_sync import CatalogSyncActivities
from activities.conversions import ConversionActivities
from activities.flow_steps import FlowActivities
from activities.group_deals import GroupDealActivities
from activities.program_rewards import ProgramRewardActivities
from activities.webhook_delivery import WebhookActivities
from audience_schedules import AudienceScheduler
from catalog_outbox import CatalogOutbox
from config import Settings
from deal_outbox import DealOutbox
from integrations.messaging import ChannelProviders, LogProvider, MessageProvider, OutgoingMessage
from integrations.sendgrid_email import SendGridProvider
from integrations.twilio_messaging import TwilioProvider
from models.database import SessionMaker, create_engine, create_sessionmaker
from payload_visits import skip_idle_payload_visits
from payout_schedules import PayoutScheduler
from relay import Relay
from reward_outbox import RewardOutbox
from sandbox import CompiledOnceSandboxRunner
from services.channels.connections import ChannelKeys
from services.logging import configure_logging
from services.messaging.consent import unsubscribe_url
from services.messaging.templates import TemplateRenderer
from services.stores.settings import StoreDefaults
from temporal_payloads import data_converter
from webhook_outbox import WebhookOutbox
from workflows.abandoned_cart import AbandonedCartWorkflow
from workflows.affiliate_commission import AffiliateCommissionWorkflow
from workflows.affiliate_payouts import AffiliatePayoutWorkflow
from workflows.audiences import AudienceRemovalWorkflow, AudienceSyncWorkflow
from workflows.browse_reminder import BrowseReminderWorkflow
from workflows.catalog_sync import CatalogSyncWorkflow
from workflows.conversion import ConversionWorkflow
from workflows.group_deal import GroupDealWorkflow
from workflows.program_rewards import ReferralRewardWorkflow, SharingRewardWorkflow
from workflows.return_purchase import ReturnPurchaseWorkflow
from workflows.webhook_delivery import WebhookDeliveryWorkflow

log = logging.getLogger("shopstar.worker")
WORKFLOWS = [
    AbandonedCartWorkflow,
    BrowseReminderWorkflow,
    ReturnPurchaseWorkflow,
    WebhookDeliveryWorkflow,
    GroupDealWorkflow,
    AffiliateCommissionWorkflow,
    AffiliatePayoutWorkflow,
    ReferralRewardWorkflow,
    SharingRewardWorkflow,
    ConversionWorkflow,
    CatalogSyncWorkflow,
    AudienceSyncWorkflow,
    AudienceRemovalWorkflow,
]


# The worker's database connections kept open, and the flow steps it runs at once: the steps
# (local activities) hold one each, the relay, the outboxes and the other activities share the
# rest (and the pool's overflow).
WORKER_POOL = 30
LOCAL_STEPS_AT_ONCE = 20

# Imported once for the whole process instead of once per run's sandbox: our leaf modules
# (deterministic, no state a run could change) and the libraries they need.
PASSTHROUGH = (
    "pydantic",
    "pydantic_core",
    "annotated_types",
    "flow_contract",
    "workflows.types",
    "workflows.sequence",
    "workflows.search_attributes",
)


def workflow_runner(*passthrough: str) -> WorkflowRunner:
    """The sandbox, kept: it catches nondeterministic workflow code (bench.replay_cost); its
    glue code compiled once (sandbox.py). `passthrough`: more modules to pass through (the
    benchmarks' own run types). Its workers and replayers skip the SDK's payload walks that
    would change nothing (payload_visits.py)."""
    skip_idle_payload_visits()
    restrictions = SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH, *passthrough)
    return CompiledOnceSandboxRunner(restrictions=restrictions)


async def connect_temporal(settings: Settings) -> Client:
    return await Client.connect(
        settings.require_temporal_address(),
        namespace=settings.temporal_namespace,
        data_converter=data_converter,
    )


# Must match the route in api/routes/webhooks.py; the provider fills in each message's store.
TWILIO_STATUS_PATH = "/v1/webhooks/twilio/{store_id}/status"


def message_provider(settings: Settings) -> MessageProvider:
    """Email and SMS/WhatsApp providers as configured (Settings refused missing credentials)."""
    public = settings.public_base_url.rstrip("/")
    email: MessageProvider = LogProvider()
    phone: MessageProvider = LogProvider()
    if settings.email_provider == "sendgrid":
        assert settings.sendgrid_api_key and settings.sendgrid_from_email

        def unsubscribe(message: OutgoingMessage) -> str:
            store_id = message.store_id or ""
            return unsubscribe_url(
                public, settings.unsubscribe_secret, store_id, message.message_id
            )

        email = SendGridProvider(
            settings.sendgrid_api_key,
            settings.sendgrid_from_email,
            unsubscribe,
            host=settings.sendgrid_host,
            timeout=settings.provider_timeout_seconds,
        )
    if settings.sms_provider == "twilio":
        assert settings.twilio_account_sid and settings.twilio_auth_token
        phone = TwilioProvider(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            from_number=settings.twilio_from_number,
            whatsapp_from=settings.twilio_whatsapp_from,
            status_callback_url=public + TWILIO_STATUS_PATH,
            base_url=settings.twilio_base_url,
            timeout=settings.provider_timeout_seconds,
        )
    return ChannelProviders(email=email, phone=phone)


def build_worker(
    client: Client,
    sessionmaker: SessionMaker,
    settings: Settings,
    renderer: TemplateRenderer | None = None,
) -> Worker:
    # Templates render in processes of the worker's own, with a time limit it can enforce.
    activities = FlowActivities(
        sessionmaker,
        message_provider(settings),
        StoreDefaults.from_settings(settings),
        renderer or TemplateRenderer(processes=2),
    )
    webhooks = WebhookActivities(
        sessionmaker,
        secret_key=settings.webhook_secret_key,
        local_allowed=settings.environment != "production",
        timeout=settings.provider_timeout_seconds,
    )
    deals = GroupDealActivities(
        sessionmaker, message_provider(settings), StoreDefaults.from_settings(settings)
    )
    affiliates = AffiliateActivities(sessionmaker)
    programs = ProgramRewardActivities(
        sessionmaker, message_provider(settings), StoreDefaults.from_settings(settings)
    )
    conversions = ConversionActivities(
        sessionmaker, ChannelKeys.from_settings(settings), timeout=settings.provider_timeout_seconds
    )
    catalog = CatalogSyncActivities(sessionmaker, ChannelKeys.from_settings(settings))
    audiences = AudienceActivities(sessionmaker, ChannelKeys.from_settings(settings))
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        activities=[
            activities.run_flow_step,
            activities.close_recovery_run,
            webhooks.attempt_webhook_delivery,
            deals.settle_group_deal,
            deals.send_deal_notices,
            affiliates.approve_commission,
            affiliates.create_automatic_payouts,
            programs.record_referral,
            programs.settle_referral,
            programs.send_referral_notice,
            programs.settle_share_reward,
            conversions.send_conversion,
            conversions.give_up_conversion,
            catalog.push_catalog_batch,
            audiences.audience_networks,
            audiences.sync_audience_network,
            audiences.audience_removal_targets,
            audiences.remove_from_audience,
        ],
        max_concurrent_activities=50,
        # Flow steps at once: enough to overlap their waits on the database and the providers,
        # and within the pool (WORKER_POOL), so that a burst of due steps queues here instead
        # of opening and closing overflow connections (a new PostgreSQL backend each time,
        # 1-2 ms of its CPU a step in bench.flows' bursts).
        max_concurrent_local_activities=LOCAL_STEPS_AT_ONCE,
        # Runs waiting on timers stay in memory: an evicted run is replayed from its whole
        # history (in a new sandbox) at its next step.
        max_cached_workflows=settings.worker_max_cached_workflows,
        workflow_runner=workflow_runner(),
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
    engine = create_engine(settings.require_database_url(), pool_size=WORKER_POOL)
    sessionmaker = create_sessionmaker(engine)
    client = await connect_temporal(settings)
    renderer = TemplateRenderer(processes=2)
    worker = build_worker(client, sessionmaker, settings, renderer)
    relay = build_relay(client, sessionmaker, settings)
    outbox = WebhookOutbox(
        sessionmaker,
        client,
        task_queue=settings.task_queue,
        poll_seconds=settings.relay_poll_seconds,
    )
    deal_outbox = DealOutbox(
        sessionmaker,
        client,
        task_queue=settings.task_queue,
        poll_seconds=settings.relay_poll_seconds,
    )
    catalog_outbox = CatalogOutbox(
        sessionmaker,
        client,
        task_queue=settings.task_queue,
        poll_seconds=settings.relay_poll_seconds,
    )
    payout_scheduler = PayoutScheduler(
        sessionmaker, client, task_queue=settings.task_queue, batch_size=50, poll_seconds=5.0
    )
    reward_outbox = RewardOutbox(
        sessionmaker,
        client,
        task_queue=settings.task_queue,
        poll_seconds=settings.relay_poll_seconds,
    )
    audience_scheduler = AudienceScheduler(
        sessionmaker, client, task_queue=settings.task_queue, batch_size=50, poll_seconds=5.0
    )
    log.info("worker started", extra={"task_queue": settings.task_queue})
    try:
        async with worker, asyncio.TaskGroup() as tasks:
            tasks.create_task(relay.run())
            tasks.create_task(outbox.run())
            tasks.create_task(deal_outbox.run())
            tasks.create_task(payout_scheduler.run())
            tasks.create_task(reward_outbox.run())
            tasks.create_task(catalog_outbox.run())
            tasks.create_task(audience_scheduler.run())
    finally:
        renderer.close()
        await engine.dispose()


if __name__ == "__main__":
    from config import load_settings_or_exit

    asyncio.run(run_worker(load_settings_or_exit()))
