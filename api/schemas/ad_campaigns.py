"""On-site ad campaigns (admin) and what a storefront asks for and reports (docs/ads.md)."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from api.schemas.money import Id
from services.urls import MAX_URL_LENGTH, check_web_url

Placement = Literal["homepage_hero", "category_banner", "product_page", "checkout_upsell"]
DeviceType = Literal["mobile", "desktop", "tablet"]
WebUrl = Annotated[
    str, Field(min_length=1, max_length=MAX_URL_LENGTH), AfterValidator(check_web_url)
]
Ids = Annotated[list[Id], Field(max_length=500)]
VariantKey = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,40}$", examples=["control"])]


class Creative(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=120)
    body: str | None = Field(default=None, max_length=500)
    image_url: WebUrl
    link_url: WebUrl
    cta: str | None = Field(default=None, min_length=1, max_length=40)


class Variant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: VariantKey
    weight: int = Field(strict=True, ge=1, le=10_000, description="Relative share of visitors")
    creative: Creative


class Targeting(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shopper_groups: Annotated[list[Id], Field(max_length=100)] | None = None
    device_types: Annotated[list[DeviceType], Field(min_length=1, max_length=3)] | None = None
    category_ids: Ids | None = None
    product_ids: Ids | None = None
    new_visitors_only: bool = False


class FrequencyCap(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_impressions: int = Field(strict=True, ge=1, le=10_000)
    window_seconds: int = Field(strict=True, ge=1, le=366 * 86_400)


Placements = Annotated[list[Placement], Field(min_length=1, max_length=4)]
Variants = Annotated[list[Variant], Field(min_length=1, max_length=10)]
Priority = Annotated[int, Field(strict=True, ge=0, le=1_000_000, description="Higher first")]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class AdCampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    placements: Placements
    targeting: Targeting = Field(default_factory=Targeting)
    starts_at: AwareDatetime | None = Field(default=None, description="Default: now")
    ends_at: AwareDatetime | None = None
    priority: Priority = 0
    frequency_cap: FrequencyCap | None = None
    variants: Variants = Field(description="The first is the control of the report")


class AdCampaignPatch(BaseModel):
    """Only the fields given change; `ends_at` and `frequency_cap` may be set to null."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    placements: Placements | None = None
    targeting: Targeting | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    priority: Priority | None = None
    frequency_cap: FrequencyCap | None = None
    variants: Variants | None = None


class AdCampaignOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    status: Literal["scheduled", "live", "ended"]
    placements: list[str]
    targeting: Targeting
    starts_at: datetime
    ends_at: datetime | None
    priority: int
    frequency_cap: FrequencyCap | None
    variants: list[Variant]
    ended_at: datetime | None
    created_at: datetime
    updated_at: datetime


class AdRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    placement: Placement
    visitor_id: Id
    customer_id: Id | None = None
    device_type: DeviceType
    category_id: Id | None = None
    product_id: Id | None = None


class ServedAd(BaseModel):
    campaign_id: str
    variant_key: str
    creative: Creative
    impression_token: str = Field(description="Report the impression and click with it")


class AdEventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    impression_token: str = Field(min_length=1, max_length=64)
    type: Literal["impression", "click"]


class AdEventOut(BaseModel):
    type: str
    counted: bool = Field(description="False: this token's event of this type was counted before")


class AdEventBatchIn(BaseModel):
    """What a storefront's beacon sends: the events it collected (an impression and its click
    can come in one batch: the impressions are recorded first)."""

    model_config = ConfigDict(extra="forbid")

    events: list[AdEventIn] = Field(min_length=1, max_length=100)


class AdEventResult(BaseModel):
    type: str
    counted: bool
    error: str | None = Field(
        default=None,
        description="`impression_not_found` or `impression_not_recorded`: this event was not "
        "counted; the others of the batch are",
    )


class AdEventBatchOut(BaseModel):
    results: list[AdEventResult]


class VariantReport(BaseModel):
    key: str
    impressions: int
    unique_visitors: int
    clicks: int
    ctr: float | None = Field(description="clicks / impressions; null without impressions")
    orders: int
    revenue: dict[str, int] = Field(description="Attributed revenue per currency, minor units")
    probability_beats_control: float | None = Field(
        description="P(CTR > the control's), Beta(1+clicks, 1+non-clicks) posteriors, exact"
    )


class AdCampaignReport(BaseModel):
    campaign_id: str
    control: str
    method: str
    variants: list[VariantReport]
