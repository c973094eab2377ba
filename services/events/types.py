"""The events the platform sends (`POST /v1/events`), validated in one pass over the whole batch
(a union of event types told apart by `type`), so that a rejected batch names every bad event
by index and field."""

import json
import re
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


class ValidEvent(BaseModel):
    """An event that passed validation: the envelope and its typed data. One subclass per
    type, so that a whole batch is validated in one pass (a union told apart by `type`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Id
    type: str
    occurred_at: AwareDatetime
    data: Strict


class CustomerUpsertedEvent(ValidEvent):
    type: Literal["customer.upserted"]
    data: CustomerUpserted


class CustomerErasedEvent(ValidEvent):
    type: Literal["customer.erased"]
    data: CustomerErased


class ProductUpsertedEvent(ValidEvent):
    type: Literal["product.upserted"]
    data: ProductUpserted


class ProductDeletedEvent(ValidEvent):
    type: Literal["product.deleted"]
    data: ProductDeleted


class ProductViewedEvent(ValidEvent):
    type: Literal["product.viewed"]
    data: ProductViewed


class CartUpdatedEvent(ValidEvent):
    type: Literal["cart.updated"]
    data: CartUpdated


class OrderPlacedEvent(ValidEvent):
    type: Literal["order.placed"]
    data: OrderPlaced


class OrderCancelledEvent(ValidEvent):
    type: Literal["order.cancelled"]
    data: OrderChanged


class OrderRefundedEvent(ValidEvent):
    type: Literal["order.refunded"]
    data: OrderChanged


AnyEvent = Annotated[
    CustomerUpsertedEvent
    | CustomerErasedEvent
    | ProductUpsertedEvent
    | ProductDeletedEvent
    | ProductViewedEvent
    | CartUpdatedEvent
    | OrderPlacedEvent
    | OrderCancelledEvent
    | OrderRefundedEvent,
    Field(discriminator="type"),
]
MAX_BATCH = 500


class Batch(BaseModel):
    """The body of `POST /v1/events`, validated straight from its bytes (pydantic's own JSON
    parser: no intermediate dicts)."""

    events: Annotated[list[AnyEvent], Field(min_length=1, max_length=MAX_BATCH)]


# Built once: the validators of the union and of the whole body.
_events = TypeAdapter(list[AnyEvent])
_batch = TypeAdapter(Batch)
_TAG_ERRORS = {"union_tag_invalid", "union_tag_not_found"}


class BatchRejected(Exception):
    """The body is not a batch (`field` says where), or these events are invalid."""

    def __init__(self, problems: list[dict[str, Any]], *, not_json: bool = False) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = problems
        self.not_json = not_json


def _problems(exc: ValidationError, raw: list[Any], prefix: int) -> list[dict[str, Any]]:
    """Each error as {index, id, field, message}; `prefix` leading loc parts to drop (the
    "events" of a whole body). The loc is (index, type, *field) inside a valid type."""
    out = []
    for err in exc.errors():
        loc = err["loc"][prefix:]
        index = loc[0] if loc and isinstance(loc[0], int) else -1
        field = "type" if err["type"] in _TAG_ERRORS else ".".join(str(p) for p in loc[2:])
        item = raw[index] if 0 <= index < len(raw) else None
        out.append(
            {
                "index": index,
                "id": item.get("id") if isinstance(item, dict) else None,
                "field": field,
                "message": err["msg"],
            }
        )
    return out


def validate_batch(raw: list[Any]) -> tuple[list[ValidEvent], list[dict[str, Any]]]:
    """Validate every event in one pass; the valid events, or every problem of the others."""
    try:
        return list(_events.validate_python(raw)), []
    except ValidationError as exc:
        return [], _problems(exc, raw, 0)


def validate_body(body: bytes) -> list[ValidEvent]:
    """A whole `{"events": [...]}` body; BatchRejected names every problem."""
    try:
        return list(_batch.validate_json(body).events)
    except ValidationError as exc:
        errors = exc.errors()
        if any(e["type"] == "json_invalid" for e in errors):
            raise BatchRejected([], not_json=True) from None
        outer = [e for e in errors if len(e["loc"]) < 2]
        if outer:  # not an object, no `events` list, or a batch of the wrong size
            raise BatchRejected(
                [
                    {"field": ".".join(map(str, e["loc"])) or "body", "message": e["msg"]}
                    for e in outer
                ]
            ) from None
        # Only to name the bad events by id (the standard parser: any number pydantic read).
        decoded = json.loads(body)
        raise BatchRejected(_problems(exc, decoded["events"], 1)) from None
