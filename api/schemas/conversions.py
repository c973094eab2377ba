"""An order's conversions as staff see them (`GET /v1/conversions?order_id=`): each attempt's
state and the network's answer in our words with its code; never a credential or contact data."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel


class ConversionOut(BaseModel):
    id: str
    network: Literal["google_ads", "meta"]
    order_id: str
    kind: Literal["conversion", "adjustment"]
    adjustment: Literal["restatement", "retraction"] | None = None
    value: int  # minor units: the order's value, or the value an adjustment restates
    currency: str
    status: Literal["pending", "sent", "refused", "retrying"]
    attempts: int
    last_response: str | None = None
    response_code: str | None = None
    created_at: datetime
    updated_at: datetime


class ConversionList(BaseModel):
    items: list[ConversionOut]
