"""Outbound webhook endpoints and their deliveries, as the platform's staff read them. The
signing secret appears in the answer to the create only."""

import json
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, computed_field

from services.growth.webhooks import DeliveryEvent, DeliveryStatus, WebhookEvent
from services.urls import MAX_URL_LENGTH, check_web_url


class WebhookEndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, AfterValidator(check_web_url)] = Field(
        max_length=MAX_URL_LENGTH,
        description="In production: https to a public address (docs/webhooks.md)",
    )
    events: list[WebhookEvent] = Field(min_length=1, max_length=len(WebhookEvent))


class WebhookEndpointOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    url: str
    events: list[str]
    created_at: datetime


class WebhookEndpointCreated(WebhookEndpointOut):
    secret: str = Field(description="Signs every delivery; shown this once, keep it")


class WebhookDeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    endpoint_id: str
    event: DeliveryEvent = Field(validation_alias="event_type")
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None


class WebhookDeliveryDetail(WebhookDeliveryOut):
    body: str = Field(exclude=True)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def payload(self) -> dict[str, Any]:
        """The JSON body every attempt sends: `{id, type, created_at, data}`."""
        loaded: dict[str, Any] = json.loads(self.body)
        return loaded
