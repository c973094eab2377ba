"""The message log as the API shows it."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from flow_contract import Channel, FlowKind, GateReason, MessageStatus


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    flow: FlowKind
    step: int
    channel: Channel
    status: MessageStatus
    suppression_reason: GateReason | None
    # A failed message: the provider's code, or the engine's (`template_error`, `step_error`,
    # `retries_exhausted`) with its reason in words.
    failure_code: str | None = None
    failure_reason: str | None = None
    promo_code: str | None
    sender: str | None = Field(
        default=None, description="The from address or number it went out with (store settings)"
    )
    workflow_id: str
    customer_id: str | None
    created_at: datetime
    sent_at: datetime | None
