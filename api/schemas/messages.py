"""The message log as the API shows it."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    flow: str
    step: int
    channel: str
    status: str
    suppression_reason: str | None
    promo_code: str | None
    workflow_id: str
    customer_id: str | None
    created_at: datetime
    sent_at: datetime | None
