"""Writes to the message log. Every row has an idempotency key (workflow, run, step), so a
retried activity finds the row it wrote instead of writing or sending again."""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from flow_contract import Channel, FlowKind, GateReason, MessageStatus
from models import Message
from models.database import SessionStatements
from services.ids import new_id

log = logging.getLogger("shopstar.messages")

# The statements of every step, built once: a flow step runs several, and building a statement
# and its cache key cost the worker more than sending it (bench/step_cost.py).
_FIND_STEP = select(Message).where(Message.idempotency_key == bindparam("key"))
_COLUMNS = (
    "id",
    "store_id",
    "customer_id",
    "flow",
    "step",
    "channel",
    "status",
    "suppression_reason",
    "promo_code",
    "workflow_id",
    "idempotency_key",
    "created_at",
    "updated_at",
)
_RECORD_STEP = select(Message).from_statement(
    insert(Message)
    .values({name: bindparam(f"v_{name}") for name in _COLUMNS})
    .on_conflict_do_nothing(index_elements=[Message.idempotency_key])
    .returning(Message)
)
# The two writes of every send, on the driver (models.database.SessionStatements).
_SEND_STARTED = """
    UPDATE messages SET send_started_at = %(now)s, provider = %(provider)s,
        subject = %(subject)s, body = %(body)s, sender = %(sender)s, updated_at = %(now)s
    WHERE id = %(message_id)s
"""
_SENT = """
    UPDATE messages SET status = 'sent', provider_message_id = %(provider_message_id)s,
        sent_at = %(now)s, updated_at = %(now)s
    WHERE id = %(message_id)s AND status = 'pending'
"""


@dataclass(frozen=True)
class StepRef:
    store_id: str
    workflow_id: str
    run_key: str
    flow: FlowKind
    step: int
    channel: Channel
    customer_id: str | None

    @property
    def idempotency_key(self) -> str:
        return f"{self.workflow_id}:{self.run_key}:{self.step}"


async def find_step(session: AsyncSession, ref: StepRef) -> Message | None:
    return await session.scalar(_FIND_STEP, {"key": ref.idempotency_key})


async def record_step(
    session: AsyncSession,
    ref: StepRef,
    *,
    status: MessageStatus,
    reason: GateReason | None = None,
    promo_code: str | None = None,
) -> Message:
    """Insert the step's row once; later calls return the row already there."""
    now = datetime.now(UTC)
    values = {
        "id": new_id("msg"),
        "store_id": ref.store_id,
        "customer_id": ref.customer_id,
        "flow": ref.flow,
        "step": ref.step,
        "channel": ref.channel,
        "status": status,
        "suppression_reason": reason,
        "promo_code": promo_code,
        "workflow_id": ref.workflow_id,
        "idempotency_key": ref.idempotency_key,
        "created_at": now,
        "updated_at": now,
    }
    inserted = await session.scalar(_RECORD_STEP, {f"v_{k}": v for k, v in values.items()})
    row = inserted or await find_step(session, ref)
    assert row is not None
    return row


async def mark_send_started(
    session: AsyncSession,
    message_id: str,
    *,
    provider: str,
    subject: str | None,
    body: str,
    sender: str | None = None,
) -> None:
    """Committed right before the provider is called: a retry that finds it set knows an
    earlier attempt may have handed the message over."""
    params = {
        "message_id": message_id,
        "now": datetime.now(UTC),
        "provider": provider,
        "subject": subject,
        "body": body,
        "sender": sender,
    }
    await SessionStatements(session).all(_SEND_STARTED, params)


async def clear_send_started(session: AsyncSession, message_id: str) -> None:
    """The provider did not take the message (a transient error): the retry sends it."""
    await session.execute(
        update(Message).where(Message.id == message_id).values(send_started_at=None)
    )


async def mark_sent(
    session: AsyncSession, message_id: str, *, provider_message_id: str | None
) -> None:
    """Only a pending row becomes sent: a provider's callback may have been faster."""
    params = {
        "message_id": message_id,
        "provider_message_id": provider_message_id,
        "now": datetime.now(UTC),
    }
    await SessionStatements(session).all(_SENT, params)


async def mark_unknown(session: AsyncSession, message_id: str) -> None:
    """The request may have reached the provider, which did not answer: the message is never
    sent again, and the provider's callback or event settles its status. `sent_at` is set: the
    shopper may have it, and the caps that look at recent messages should count it."""
    now = datetime.now(UTC)
    await session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == MessageStatus.PENDING)
        .values(status=MessageStatus.UNKNOWN, sent_at=now, updated_at=now)
    )
    log.warning("message outcome unknown", extra={"message_id": message_id})


async def mark_failed(
    session: AsyncSession,
    message_id: str,
    code: str,
    reason: str,
    *,
    provider: str,
    subject: str | None,
    body: str,
    detail: str | None = None,
) -> None:
    """The message failed for good. A provider's `reason` goes to the log, not the row: the
    row keeps the provider's code, which is what staff look up. `detail` is the engine's own
    words for staff (a template or gate error), kept on the row."""
    now = datetime.now(UTC)
    await session.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(
            status=MessageStatus.FAILED,
            failure_code=code[:40],
            failure_reason=detail[:500] if detail else None,
            provider=provider,
            subject=subject,
            body=body,
            updated_at=now,
        )
    )
    log.warning("message failed", extra={"message_id": message_id, "code": code, "reason": reason})
