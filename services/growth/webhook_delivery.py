"""Delivering what `emit` recorded: the outbox the worker drains into Temporal, and each
attempt's preparation (URL, body, signed headers) and record (attempts, answer, next time)."""

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import WebhookDelivery, WebhookEndpoint
from services.growth.webhook_secrets import (
    DELIVERY_ID_HEADER,
    SIGNATURE_HEADER,
    SecretUnreadable,
    decrypt_secret,
    signature_header,
)
from services.growth.webhooks import DeliveryStatus
from services.urls import IPAddress, is_public_address

ERROR_CHARS = 500


@dataclass(frozen=True)
class PreparedAttempt:
    delivery_id: str
    url: str
    body: str
    secret: str

    def headers(self, timestamp: int) -> dict[str, str]:
        return {
            SIGNATURE_HEADER: signature_header(self.secret, timestamp, self.body),
            DELIVERY_ID_HEADER: self.delivery_id,
        }

    def __repr__(self) -> str:  # never the secret, in a log or a traceback
        return f"PreparedAttempt(delivery_id={self.delivery_id!r})"


def address_rule(local_allowed: bool) -> Callable[[IPAddress], bool]:
    """Which resolved addresses a delivery may connect to: public ones in production."""
    return (lambda _: True) if local_allowed else is_public_address


async def claim_undispatched(
    session: AsyncSession, limit: int, stores: Collection[str] | None = None
) -> list[WebhookDelivery]:
    """The oldest deliveries not yet handed to Temporal, locked (other workers skip them);
    only those of `stores` when given (a worker dedicated to some stores, or a test)."""
    query = select(WebhookDelivery).where(WebhookDelivery.dispatched_at.is_(None))
    if stores is not None:
        query = query.where(WebhookDelivery.store_id.in_(stores))
    rows = await session.scalars(
        query.order_by(WebhookDelivery.created_at).limit(limit).with_for_update(skip_locked=True)
    )
    return list(rows)


def mark_dispatched(rows: Sequence[WebhookDelivery]) -> None:
    now = datetime.now(UTC)
    for row in rows:
        row.dispatched_at = now


async def _locked(session: AsyncSession, store_id: str, delivery_id: str) -> WebhookDelivery:
    row = await session.scalar(
        select(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.store_id == store_id)
        .with_for_update()
    )
    if row is None:  # the store was deleted (cascade): nothing to deliver
        raise LookupError(f"webhook delivery {delivery_id} is gone")
    return row


def _finish(row: WebhookDelivery, status: DeliveryStatus, error: str | None) -> None:
    now = datetime.now(UTC)
    row.status = status
    row.last_error = error[:ERROR_CHARS] if error else None
    row.next_attempt_at = None
    row.updated_at = now
    if status is DeliveryStatus.DELIVERED:
        row.delivered_at = now


async def prepare_attempt(
    session: AsyncSession, store_id: str, delivery_id: str, secret_key: str
) -> PreparedAttempt | DeliveryStatus:
    """What to send, or the delivery's status if there is nothing (more) to send: it is done,
    its endpoint was deleted, or its secret no longer decrypts (those two end it `failed`)."""
    row = await _locked(session, store_id, delivery_id)
    if row.status != DeliveryStatus.PENDING:
        return DeliveryStatus(row.status)
    endpoint = await session.get(WebhookEndpoint, row.endpoint_id)
    if endpoint is None or endpoint.deleted_at is not None:
        _finish(row, DeliveryStatus.FAILED, "the endpoint was deleted")
        return DeliveryStatus.FAILED
    try:
        secret = decrypt_secret(secret_key, endpoint.id, endpoint.secret_encrypted)
    except SecretUnreadable as exc:
        _finish(row, DeliveryStatus.FAILED, f"{exc} (SHOPSTAR_WEBHOOK_SECRET_KEY changed?)")
        return DeliveryStatus.FAILED
    return PreparedAttempt(row.id, endpoint.url, row.body, secret)


async def record_attempt(
    session: AsyncSession,
    store_id: str,
    delivery_id: str,
    *,
    status_code: int | None,
    error: str | None,
    retry_at: datetime | None,
) -> DeliveryStatus:
    """One attempt's answer: a 2xx delivers; anything else waits for `retry_at`, or fails the
    delivery when there is none (the 24 h are over)."""
    row = await _locked(session, store_id, delivery_id)
    if row.status != DeliveryStatus.PENDING:
        return DeliveryStatus(row.status)
    row.attempts += 1
    row.last_status_code = status_code
    if status_code is not None and 200 <= status_code < 300:
        _finish(row, DeliveryStatus.DELIVERED, None)
    elif retry_at is None:
        _finish(row, DeliveryStatus.FAILED, error)
    else:
        row.last_error = error[:ERROR_CHARS] if error else None
        row.next_attempt_at = retry_at
        row.updated_at = datetime.now(UTC)
    return DeliveryStatus(row.status)
