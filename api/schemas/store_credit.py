"""Store-credit bodies: a signed entry in, balances and entries out."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.money import MAX_AMOUNT, Currency


class StoreCreditIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: int = Field(
        strict=True, ge=-MAX_AMOUNT, le=MAX_AMOUNT, description="Minor units; negative for a debit"
    )
    currency: Currency
    reason: str = Field(min_length=1, max_length=500)


class StoreCreditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    customer_id: str
    currency: str
    amount: int
    balance_after: int
    reason: str
    order_id: str | None = Field(default=None, description="The checkout that drew or released it")
    created_at: datetime


class StoreCreditBalance(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    currency: str
    balance: int


class StoreCreditOut(BaseModel):
    customer_id: str
    balances: list[StoreCreditBalance]
    entries: list[StoreCreditEntryOut] = Field(description="The latest entries, newest first")
