"""Everything one checkout reads, in one statement (one round trip): the store's promotion and
bundle fingerprint (services/checkout/store_state.py), the catalog facts of the products and of
the free variants promotions give, what the coupon and gift-card codes given are worth, and the
customer's facts. Rows come back as
JSON arrays, decoded in C. Built once with bind parameters and compiled once to text: the
statement is the same for every cart, so PostgreSQL prepares it once per connection."""

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Boolean, Text, and_, bindparam, exists, func, select
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect

from models import Bundle, CompletedCheckout, Customer, Order, Promotion
from models.database import Statements
from services.checkout.catalog import GIFT_VARIANTS, PRODUCTS, GiftFacts, ProductFacts
from services.checkout.codes import COUPONS, GIFT_CARDS

_STORE = bindparam("store_id", type_=Text)
_CUSTOMER = bindparam("customer_id", type_=Text)
_ORDER = bindparam("order_id", type_=Text)


def _fingerprint() -> Any:
    promotions = (
        select(func.concat(func.count(), ":", func.coalesce(func.sum(Promotion.version), 0)))
        .where(Promotion.store_id == _STORE)
        .scalar_subquery()
    )
    bundles = (
        select(func.concat(func.count(), ":", func.count(Bundle.disabled_at)))
        .where(Bundle.store_id == _STORE)
        .scalar_subquery()
    )
    return func.concat(promotions, "/", bundles)


def _rows_as_json(statement: Any) -> Any:
    rows = statement.subquery()
    return select(func.json_agg(func.json_build_array(*rows.c))).scalar_subquery()


def _earlier_order() -> Any:
    """Whether the customer has an order that counts before this one: not cancelled, or
    completed here and not yet reported. Asked only when a promotion needs it."""
    return and_(
        bindparam("first_order", type_=Boolean),
        exists().where(
            Order.store_id == _STORE,
            Order.customer_id == _CUSTOMER,
            Order.status != "cancelled",
            Order.order_id != _ORDER,
        )
        | exists().where(
            CompletedCheckout.store_id == _STORE,
            CompletedCheckout.customer_id == _CUSTOMER,
            CompletedCheckout.released_at.is_(None),
            CompletedCheckout.order_id != _ORDER,
        ),
    )


_READ = select(
    _fingerprint(),
    PRODUCTS.scalar_subquery(),
    _rows_as_json(COUPONS),
    _rows_as_json(GIFT_CARDS),
    select(Customer.shopper_groups)
    .where(Customer.store_id == _STORE, Customer.customer_id == _CUSTOMER)
    .scalar_subquery(),
    _earlier_order(),
    _rows_as_json(GIFT_VARIANTS),
)


# Compiled once to the driver's text: executed as such, the statement skips SQLAlchemy's cache
# key of its whole tree and its compiled-statement setup on every checkout.
_COMPILED = _READ.compile(dialect=psycopg_dialect.dialect())  # type: ignore[no-untyped-call]
_READ_SQL = str(_COMPILED)
_READ_CONSTANTS = {k: v for k, v in _COMPILED.params.items() if v is not None}


class CouponRow(NamedTuple):
    """A coupon joined to its promotion, as services/checkout/codes.py judges it."""

    id: str
    code: str
    usage: str
    usage_limit: int | None
    used_count: int
    customer_id: str | None
    expires_at: datetime | None
    disabled_at: datetime | None
    promotion_id: str
    promotion_disabled_at: datetime | None
    starts_at: datetime | None
    ends_at: datetime | None
    currency: str | None
    used_by_customer: bool


class GiftCardRow(NamedTuple):
    id: str
    code_hash: str
    last4: str
    balance: int
    currency: str
    expires_at: datetime | None


class CheckoutReads(NamedTuple):
    fingerprint: str
    products: dict[str, ProductFacts]
    coupons: dict[str, CouponRow]  # by code
    gift_cards: dict[str, GiftCardRow]  # by code hash
    shopper_groups: frozenset[str]
    has_earlier_order: bool
    gift_variants: dict[str, GiftFacts]  # by variant id: those that can be given now


def _moment(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _coupon(row: list[Any]) -> CouponRow:
    for k in (6, 7, 9, 10, 11):
        row[k] = _moment(row[k])
    return CouponRow(*row)


def _gift_card(row: list[Any]) -> GiftCardRow:
    row[5] = _moment(row[5])
    return GiftCardRow(*row)


async def read_checkout(
    db: Statements,
    store_id: str,
    *,
    product_ids: set[str],
    variant_ids: frozenset[str],
    currency: str,
    coupon_codes: list[str],
    card_hashes: list[str],
    customer_id: str | None,
    order_id: str | None,
    first_order: bool,
) -> CheckoutReads:
    params = {
        **_READ_CONSTANTS,
        "store_id": store_id,
        "ids": list(product_ids),
        "variant_ids": list(variant_ids),
        "currency": currency,
        "codes": coupon_codes,
        "hashes": card_hashes,
        "customer_id": customer_id,
        "order_id": order_id or "",
        "first_order": first_order and customer_id is not None,
    }
    row = await db.first(_READ_SQL, params)
    assert row is not None  # an aggregate: always one row
    fingerprint, products, coupons, cards, groups, earlier, variants = row
    return CheckoutReads(
        fingerprint,
        {row[0]: ProductFacts(*row) for row in products or ()},
        {row[1]: _coupon(row) for row in coupons or ()},
        {row[1]: _gift_card(row) for row in cards or ()},
        frozenset(groups or ()),
        bool(earlier),
        {row[0]: (row[1], row[2], tuple(row[3])) for row in variants or ()},
    )
