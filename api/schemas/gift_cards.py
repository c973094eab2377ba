"""Gift-card bodies: the full code appears once, in the answer to the issue."""

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.schemas.money import Amount, Currency


class GiftCardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    initial_balance: Amount = Field(gt=0)
    currency: Currency
    code: str | None = Field(
        None, max_length=80, description="At least 16 letters or digits; generated when absent"
    )
    expires_at: AwareDatetime | None = None


class GiftCardSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    code: str = Field(description="Masked: only the last four characters are kept")
    last4: str
    currency: str
    initial_balance: int
    balance: int
    expires_at: datetime | None
    created_at: datetime


class GiftCardIssued(GiftCardSummary):
    code: str = Field(description="The full code, shown this once: only a keyed hash is stored")


class GiftCardTransactionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str = Field(description="issue | redemption | release")
    amount: int
    balance_after: int
    order_id: str | None
    created_at: datetime


class GiftCardOut(GiftCardSummary):
    transactions: list[GiftCardTransactionOut]
