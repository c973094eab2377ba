"""Outbound webhook endpoints and the events they hear of. `emit` is how a program tells the
platform something happened: it records one delivery per subscribed endpoint in the caller's
transaction (an outbox), and the worker hands each to a `WebhookDeliveryWorkflow`, so an event
accepted here is delivered even if Temporal was down at that moment."""

import asyncio
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from integrations.webhooks import resolve
from models import WebhookDelivery, WebhookEndpoint
from services.errors import Conflict, NotFound, invalid_field
from services.growth.webhook_secrets import encrypt_secret, new_signing_secret
from services.ids import new_id
from services.pagination import fetch_page
from services.urls import check_webhook_url, is_public_address, literal_address

# A delivery is retried for this long after its event, then marked `failed`.
RETRY_WINDOW = timedelta(hours=24)
MAX_ENDPOINTS_PER_STORE = 20
RESOLVE_SECONDS = 5.0


class WebhookEvent(StrEnum):
    DEAL_ACTIVATED = "deal.activated"
    DEAL_FAILED = "deal.failed"
    DEAL_CANCELLED = "deal.cancelled"
    PAYOUT_CREATED = "payout.created"
    REFERRAL_REWARDED = "referral.rewarded"


# Sent only by `POST /v1/webhook-endpoints/{id}/test`, to that endpoint: nothing subscribes to it.
PING: Literal["ping"] = "ping"
DeliveryEvent = WebhookEvent | Literal["ping"]


async def check_resolves_to_public(url: str, field: str = "url") -> None:
    """At save time in production, a name must resolve, and only to public addresses. (Every
    delivery resolves and checks it again: DNS may change after this.)"""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if literal_address(host) is not None:
        return  # check_webhook_url judged it
    try:
        addresses = await asyncio.wait_for(resolve(host, parts.port or 443), RESOLVE_SECONDS)
    except (OSError, TimeoutError) as exc:
        raise invalid_field(field, "the host does not resolve") from exc
    if not all(is_public_address(a) for a in addresses):
        raise invalid_field(field, "the host resolves to a non-public address")


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


async def create_endpoint(
    session: AsyncSession,
    store_id: str,
    url: str,
    events: list[WebhookEvent],
    *,
    secret_key: str,
    local_allowed: bool,
) -> tuple[WebhookEndpoint, str]:
    """The endpoint and its signing secret (returned this once; stored encrypted)."""
    try:
        check_webhook_url(url, local_allowed=local_allowed)
    except ValueError as exc:
        raise invalid_field("url", str(exc)) from exc
    if not local_allowed:
        await check_resolves_to_public(url)
    count = await session.scalar(
        select(func.count()).where(
            WebhookEndpoint.store_id == store_id, WebhookEndpoint.deleted_at.is_(None)
        )
    )
    if (count or 0) >= MAX_ENDPOINTS_PER_STORE:
        raise Conflict(
            f"a store has at most {MAX_ENDPOINTS_PER_STORE} webhook endpoints: delete one first",
            code="webhook_endpoint_limit",
        )
    endpoint_id, secret = new_id("whe"), new_signing_secret()
    endpoint = WebhookEndpoint(
        id=endpoint_id,
        store_id=store_id,
        url=url,
        events=list(dict.fromkeys(str(e) for e in events)),
        secret_encrypted=encrypt_secret(secret_key, endpoint_id, secret),
        created_at=datetime.now(UTC),
    )
    session.add(endpoint)
    await session.flush()
    return endpoint, secret


async def get_endpoint(session: AsyncSession, store_id: str, endpoint_id: str) -> WebhookEndpoint:
    endpoint = await session.scalar(
        select(WebhookEndpoint).where(
            WebhookEndpoint.id == endpoint_id,
            WebhookEndpoint.store_id == store_id,
            WebhookEndpoint.deleted_at.is_(None),
        )
    )
    if endpoint is None:
        raise NotFound("webhook endpoint not found", code="webhook_endpoint_not_found")
    return endpoint


async def list_endpoints(
    session: AsyncSession, store_id: str, *, limit: int, cursor: str | None
) -> tuple[list[WebhookEndpoint], str | None]:
    query = select(WebhookEndpoint).where(
        WebhookEndpoint.store_id == store_id, WebhookEndpoint.deleted_at.is_(None)
    )
    return await fetch_page(session, query, WebhookEndpoint, limit, cursor)


async def delete_endpoint(session: AsyncSession, store_id: str, endpoint_id: str) -> None:
    """Nothing more is sent to it; deliveries under way stop at their next attempt. Deleting
    it again is no error (a retried DELETE); another store's id is a 404."""
    endpoint = await session.scalar(
        select(WebhookEndpoint).where(
            WebhookEndpoint.id == endpoint_id, WebhookEndpoint.store_id == store_id
        )
    )
    if endpoint is None:
        raise NotFound("webhook endpoint not found", code="webhook_endpoint_not_found")
    if endpoint.deleted_at is None:
        endpoint.deleted_at = datetime.now(UTC)
        await session.flush()


def _delivery(
    endpoint: WebhookEndpoint, event: DeliveryEvent, data: Mapping[str, Any], now: datetime
) -> WebhookDelivery:
    delivery_id = new_id("whd")
    payload = {"id": delivery_id, "type": str(event), "created_at": now.isoformat(), "data": data}
    return WebhookDelivery(
        id=delivery_id,
        store_id=endpoint.store_id,
        endpoint_id=endpoint.id,
        event_type=str(event),
        body=json.dumps(payload, separators=(",", ":"), ensure_ascii=False),
        status=DeliveryStatus.PENDING,
        attempts=0,
        give_up_at=now + RETRY_WINDOW,
        created_at=now,
        updated_at=now,
    )


async def emit(
    session: AsyncSession, store_id: str, event: WebhookEvent, data: Mapping[str, Any]
) -> list[WebhookDelivery]:
    """Record `event` for every endpoint of the store that subscribed to it, in the caller's
    transaction: committed with the change it reports, or not at all. `data` must be JSON
    (ids and amounts; no personal data, it leaves the engine)."""
    endpoints = await session.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.store_id == store_id,
            WebhookEndpoint.deleted_at.is_(None),
            WebhookEndpoint.events.contains([str(event)]),
        )
    )
    now = datetime.now(UTC)
    deliveries = [_delivery(endpoint, event, data, now) for endpoint in endpoints]
    session.add_all(deliveries)
    await session.flush()
    return deliveries


async def send_test(session: AsyncSession, store_id: str, endpoint_id: str) -> WebhookDelivery:
    """A `ping` to one endpoint, delivered like any event: staff check their receiver with it."""
    endpoint = await get_endpoint(session, store_id, endpoint_id)
    delivery = _delivery(endpoint, PING, {"endpoint_id": endpoint.id}, datetime.now(UTC))
    session.add(delivery)
    await session.flush()
    return delivery


async def get_delivery(session: AsyncSession, store_id: str, delivery_id: str) -> WebhookDelivery:
    delivery = await session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.store_id == store_id
        )
    )
    if delivery is None:
        raise NotFound("webhook delivery not found", code="webhook_delivery_not_found")
    return delivery


async def list_deliveries(
    session: AsyncSession,
    store_id: str,
    *,
    event: DeliveryEvent | None,
    status: DeliveryStatus | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[WebhookDelivery], str | None]:
    query = select(WebhookDelivery).where(WebhookDelivery.store_id == store_id)
    if event is not None:
        query = query.where(WebhookDelivery.event_type == str(event))
    if status is not None:
        query = query.where(WebhookDelivery.status == str(status))
    return await fetch_page(session, query, WebhookDelivery, limit, cursor)
