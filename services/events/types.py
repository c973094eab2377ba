"""The events the platform sends (`POST /v1/events`), validated one by one so that a rejected
batch can name every bad event by index and field."""

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
)

from services.urls import check_web_url

Id = Annotated[str, Field(min_length=1, max_length=200)]
Amount = Annotated[int, Field(ge=0, le=10**13)]
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def _currency(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise ValueError("currency must be an ISO 4217 code such as USD")
    return value


def _e164(value: str) -> str:
    if not _E164.match(value):
        raise ValueError("phone must be in E.164 form, such as +14155550123")
    return value


def _timezone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("timezone must be an IANA time zone such as Europe/Paris") from exc
    return value


Currency = Annotated[str, AfterValidator(_currency)]
Phone = Annotated[str, AfterValidator(_e164)]
TimeZone = Annotated[str, AfterValidator(_timezone)]
WebUrl = Annotated[str, AfterValidator(check_web_url)]


# Bounds on every list and string of an event, so one event cannot cost more than a batch.
MAX_LINES = 1000
Codes = Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(max_length=50)]
Labels = Annotated[list[Id], Field(max_length=100)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=10_000)


class Consent(Strict):
    email: bool | None = None
    sms: bool | None = None
    whatsapp: bool | None = None
    # May be matched in ad networks (hashed contact data in conversions and audiences).
    ads: bool | None = None


class CustomerUpserted(Strict):
    customer_id: Id
    email: Annotated[str, Field(max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    phone: Phone | None = None
    first_name: Annotated[str, Field(max_length=200)] | None = None
    timezone: TimeZone | None = None
    locale: Annotated[str, Field(max_length=35)] | None = None
    shopper_groups: Labels | None = None
    consent: Consent | None = None


class CustomerErased(Strict):
    customer_id: Id


class Variant(Strict):
    variant_id: Id
    price: Amount
    available: bool
    sku: str | None = None


class ProductUpserted(Strict):
    product_id: Id
    title: Annotated[str, Field(min_length=1, max_length=1000)]
    price: Amount
    currency: Currency
    category_ids: Labels
    available: bool
    url: WebUrl | None = None
    image_url: WebUrl | None = None
    description: str | None = None
    brand: str | None = None
    gtin: Annotated[str, Field(pattern=r"^\d{8,14}$")] | None = None
    variants: Annotated[list[Variant], Field(max_length=MAX_LINES)] | None = None


class ProductDeleted(Strict):
    product_id: Id


class ProductViewed(Strict):
    customer_id: Id
    product_id: Id


class LineItem(Strict):
    product_id: Id
    variant_id: Id | None = None
    quantity: Annotated[int, Field(ge=1, le=100_000)]
    unit_price: Amount


class CartUpdated(Strict):
    cart_id: Id
    customer_id: Id | None = None
    currency: Currency
    items: Annotated[list[LineItem], Field(max_length=MAX_LINES)]


Tag = Annotated[str, Field(max_length=500)]


class Attribution(Strict):
    utm_source: Tag | None = None
    utm_medium: Tag | None = None
    utm_campaign: Tag | None = None
    utm_term: Tag | None = None
    utm_content: Tag | None = None
    gclid: Tag | None = None
    gbraid: Tag | None = None
    wbraid: Tag | None = None
    fbclid: Tag | None = None
    fbc: Tag | None = None
    fbp: Tag | None = None
    referral_code: Tag | None = None
    affiliate_id: Tag | None = None
    share_token: Tag | None = None
    # The storefront's visitor: the programs and attribution read its stored touches.
    visitor_id: Id | None = None


OrderChannel = Literal["storefront", "tiktok_shop", "instagram", "facebook", "pos"]


class OrderPlaced(Strict):
    order_id: Id
    customer_id: Id
    cart_id: Id | None = None
    currency: Currency
    items: Annotated[list[LineItem], Field(max_length=MAX_LINES)]
    total: Amount
    discount_codes: Codes | None = None
    attribution: Attribution | None = None
    # Part of `total` that is shipping: affiliate commissions are on the rest.
    shipping: Amount = 0
    channel: OrderChannel = "storefront"


class OrderChanged(Strict):
    order_id: Id
    amount: Amount | None = None


EVENT_DATA: dict[str, type[Strict]] = {
    "customer.upserted": CustomerUpserted,
    "customer.erased": CustomerErased,
    "product.upserted": ProductUpserted,
    "product.deleted": ProductDeleted,
    "product.viewed": ProductViewed,
    "cart.updated": CartUpdated,
    "order.placed": OrderPlaced,
    "order.cancelled": OrderChanged,
    "order.refunded": OrderChanged,
}


class EventEnvelope(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Id
    type: Literal[
        "customer.upserted",
        "customer.erased",
        "product.upserted",
        "product.deleted",
        "product.viewed",
        "cart.updated",
        "order.placed",
        "order.cancelled",
        "order.refunded",
    ]
    occurred_at: AwareDatetime
    data: dict[str, Any]


class ValidEvent(BaseModel):
    """An event that passed validation: the envelope and its typed data."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    id: str
    type: str
    occurred_at: datetime
    data: Strict


_envelope = TypeAdapter(EventEnvelope)


def _errors(index: int, event_id: Any, exc: ValidationError, prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "index": index,
            "id": event_id,
            "field": ".".join([prefix, *(str(p) for p in err["loc"])]).strip("."),
            "message": err["msg"],
        }
        for err in exc.errors()
    ]


def validate_batch(raw: list[Any]) -> tuple[list[ValidEvent], list[dict[str, Any]]]:
    """Validate every event; return the valid ones and the problems of the others."""
    valid: list[ValidEvent] = []
    problems: list[dict[str, Any]] = []
    for index, item in enumerate(raw):
        event_id = item.get("id") if isinstance(item, dict) else None
        try:
            envelope = _envelope.validate_python(item)
        except ValidationError as exc:
            problems += _errors(index, event_id, exc, "")
            continue
        try:
            data = EVENT_DATA[envelope.type].model_validate(envelope.data)
        except ValidationError as exc:
            problems += _errors(index, event_id, exc, "data")
            continue
        valid.append(
            ValidEvent(
                id=envelope.id, type=envelope.type, occurred_at=envelope.occurred_at, data=data
            )
        )
    return valid, problems
