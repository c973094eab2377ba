"""Writes to the message log. Every row has an idempotency key (workflow, run, step), so a
retried activity finds the row it wrote instead of writing or sending again."""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from flow_contract import Channel, FlowKind, GateReason, MessageStatus
from models import Message
from models.database import SessionStatements
from services.ids import new_id

log = logging.getLogger("shopstar.messages")


class StepMessage(NamedTuple):
    """What a step needs of its message-log row."""

    id: str
    status: str
    suppression_reason: str | None
    promo_code: str | None
    failure_code: str | None
    send_started_at: datetime | None


# The statements of every step, as driver text (models.database.SessionStatements): a flow
# step runs several, and through the ORM each cost the worker more than sending it
# (bench/step_cost.py).
_STEP_COLUMNS = "id, status, suppression_reason, promo_code, failure_code, send_started_at"
_FIND_STEP = f"SELECT {_STEP_COLUMNS} FROM messages WHERE idempotency_key = %(key)s"
_RECORD_STEP = f"""
    INSERT INTO messages (id, store_id, customer_id, flow, step, channel, status,
        suppression_reason, promo_code, workflow_id, idempotency_key, created_at, updated_at)
    VALUES (%(id)s, %(store_id)s, %(customer_id)s, %(flow)s, %(step)s, %(channel)s,
        %(status)s, %(suppression_reason)s, %(promo_code)s, %(workflow_id)s,
        %(idempotency_key)s, %(now)s, %(now)s)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING {_STEP_COLUMNS}
"""
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


async def find_step(session: AsyncSession, ref: StepRef) -> StepMessage | None:
    row = await SessionStatements(session).first(_FIND_STEP, {"key": ref.idempotency_key})
    return StepMessage(*row) if row is not None else None


async def record_step(
    session: AsyncSession,
    ref: StepRef,
    *,
    status: MessageStatus,
    reason: GateReason | None = None,
    promo_code: str | None = None,
) -> StepMessage:
    """Insert the step's row once; later calls return the row already there."""
    params = {
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
        "now": datetime.now(UTC),
    }
    inserted = await SessionStatements(session).first(_RECORD_STEP, params)
    row = StepMessage(*inserted) if inserted is not None else await find_step(session, ref)
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
