"""Bodies of `POST /v1/events`. Each event is validated by services.events.types, so that a bad
batch can be answered with every problem at once."""

from typing import Any

from pydantic import BaseModel, Field


class EventBatch(BaseModel):
    events: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=500,
        description="1 to 500 events: {id, type, occurred_at, data}",
        examples=[
            [
                {
                    "id": "evt_1",
                    "type": "cart.updated",
                    "occurred_at": "2026-11-24T10:00:00Z",
                    "data": {
                        "cart_id": "cart_1",
                        "customer_id": "c_1",
                        "currency": "USD",
                        "items": [{"product_id": "p_1", "quantity": 1, "unit_price": 1999}],
                    },
                }
            ]
        ],
    )


class EventsAccepted(BaseModel):
    accepted: int
    duplicates: list[str]
