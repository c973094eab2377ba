"""Relay operations set aside, as staff read them."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, computed_field


class RelayFailureOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    workflow_id: str | None
    operation: str
    error: str
    attempts: int
    event_ids: list[str]
    next_attempt_at: datetime
    created_at: datetime
    resolved_at: datetime | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status(self) -> Literal["pending", "delivered"]:
        return "pending" if self.resolved_at is None else "delivered"
