"""Visits, an order's attribution and the attribution report."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.money import Id
from services.attribution.report import GroupBy
from services.urls import MAX_URL_LENGTH

Url = Annotated[str, Field(max_length=MAX_URL_LENGTH)]


class VisitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    visitor_id: Id = Field(description="The storefront's first-party visitor id (its cookie)")
    customer_id: Id | None = Field(default=None, description="Set once the shopper is known")
    landing_url: Url = Field(description="The page's full URL, with its query string")
    referrer: Url | None = Field(default=None, description="document.referrer; '' is none")


class Touch(BaseModel):
    """Where a visit (or the platform's attribution) says the shopper came from."""

    source: str
    medium: str
    campaign: str | None = None
    term: str | None = None
    content: str | None = None
    gclid: str | None = None
    gbraid: str | None = None
    wbraid: str | None = None
    fbclid: str | None = None
    fbc: str | None = Field(default=None, description="fb.1.<ms>.<fbclid>, for Meta's _fbc")
    fbp: str | None = None
    referral_code: str | None = None
    share_token: str | None = None
    affiliate_id: str | None = None
    referrer_host: str | None = None
    visit_id: str | None = Field(default=None, description="The visit it comes from, if any")
    at: datetime | None = None


class VisitOut(BaseModel):
    visit_id: str
    visitor_id: str
    visited_at: datetime
    touch: Touch
    first_visit_id: str = Field(description="The visitor's first touch")
    last_touch_visit_id: str = Field(
        description="The visitor's last touch: a direct visit does not replace a campaign's"
    )


class MessageCredit(BaseModel):
    message_id: str
    flow: str


class AdClickCredit(BaseModel):
    campaign_id: str
    variant_key: str | None


class ProgramCredit(BaseModel):
    affiliate_id: str | None
    referral_code: str | None
    share_token: str | None


class OrderAttributionOut(BaseModel):
    order_id: str
    placed_at: datetime
    channel: str
    visitor_id: str | None
    basis: str = Field(description="event, touches or none: where the touches come from")
    first_touch: Touch | None
    last_touch: Touch | None
    message: MessageCredit | None
    ad_click: AdClickCredit | None
    program: ProgramCredit


class Figures(BaseModel):
    orders: int
    revenue: dict[str, int] = Field(description="Per currency, in minor units")


class ReportRow(Figures):
    key: str
    first_touch: Figures | None
    last_touch: Figures | None


class AttributionReport(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: datetime = Field(alias="from")
    to: datetime
    group_by: GroupBy
    rows: list[ReportRow]
    truncated: bool
