"""Projections of the event log: the latest known state of customers, products, carts and
orders. Each write is guarded by `occurred_at`, so an older event never overwrites a newer one."""

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from pydantic import TypeAdapter
from sqlalchemy import DateTime, case, delete, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import Customer, Order, Product, ProductVariant
from models.json_rows import insert_json_rows, rows_param
from services.ads.conversions import record_ad_conversion
from services.attribution.orders import attribute_placed_orders
from services.channels.conversions import (
    conversion_networks,
    plan_adjustment,
    plan_order_conversions,
)
from services.checkout.redemptions import release_checkout
from services.events.erasure import erase_personal_data
from services.events.types import (
    CartUpdated,
    CustomerErased,
    CustomerUpserted,
    LineItem,
    OrderChanged,
    OrderPlaced,
    ProductDeleted,
    ProductUpserted,
    ValidEvent,
)
from services.growth import referrals, sharing
from services.growth.commissions import attribute_order as attribute_affiliate
from services.growth.commissions import settle_order_change

_ITEMS = TypeAdapter(list[LineItem])  # a cart's items as JSON, in one call


def _latest(events: Sequence[ValidEvent], key: str) -> list[ValidEvent]:
    """Coalesce a batch: per entity, only its newest event matters for the projection."""
    newest: dict[str, ValidEvent] = {}
    for event in events:
        entity = getattr(event.data, key)
        if entity not in newest or event.occurred_at >= newest[entity].occurred_at:
            newest[entity] = event
    return list(newest.values())


async def apply_projections(
    session: AsyncSession, store_id: str, events: Sequence[ValidEvent]
) -> None:
    by_type: dict[str, list[ValidEvent]] = {}
    for event in events:
        by_type.setdefault(event.type, []).append(event)
    if customers := by_type.get("customer.upserted"):
        await _upsert_customers(session, store_id, customers)
    for event in by_type.get("customer.erased", []):
        await _erase_customer(session, store_id, event)
    if products := by_type.get("product.upserted"):
        await _upsert_products(session, store_id, _latest(products, "product_id"))
    for event in by_type.get("product.deleted", []):
        await _delete_product(session, store_id, event)
    if carts := by_type.get("cart.updated"):
        await _upsert_carts(session, store_id, _latest(carts, "cart_id"))
    if orders := by_type.get("order.placed"):
        await _place_orders(session, store_id, orders)
    for kind in ("order.cancelled", "order.refunded"):
        for event in by_type.get(kind, []):
            await _change_order(session, store_id, event, kind.removeprefix("order."))


def _customer_rows(events: Sequence[ValidEvent]) -> list[dict[str, Any]]:
    """One row per customer of the batch: their upserts merged in time order (a later event's
    fields win; fields an event leaves out keep what earlier ones said)."""
    merged: dict[str, dict[str, Any]] = {}
    for event in sorted(events, key=lambda e: e.occurred_at):
        data = event.data
        assert isinstance(data, CustomerUpserted)
        row = merged.setdefault(data.customer_id, {"customer_id": data.customer_id})
        row.update(data.model_dump(exclude={"customer_id", "consent"}, exclude_none=True))
        consent = data.consent.model_dump(exclude_none=True) if data.consent else {}
        row.update({f"consent_{c}": given for c, given in consent.items()})
        row["updated_at"] = event.occurred_at
    return list(merged.values())


@functools.lru_cache(maxsize=256)
def _customer_upsert(columns: tuple[str, ...]) -> Any:
    """The upsert of rows that name these columns (customer_id and updated_at among them),
    built once per set of columns: the columns a row leaves out keep what is stored."""
    stmt = insert_json_rows(Customer, columns)
    fields = [c for c in columns if c not in ("customer_id", "updated_at")]
    set_: dict[str, Any] = {c: stmt.excluded[c] for c in fields if not c.startswith("consent_")}
    for column in (c for c in fields if c.startswith("consent_")):
        channel = column.removeprefix("consent_")
        # A shopper's own opt-out or opt-in (STOP, unsubscribe) after this event stands.
        set_[column] = case(
            (
                Customer.consent_changed_at[channel].astext.cast(DateTime(timezone=True))
                > stmt.excluded.updated_at,
                getattr(Customer, column),
            ),
            else_=stmt.excluded[column],
        )
    set_["updated_at"] = stmt.excluded.updated_at
    return stmt.on_conflict_do_update(
        index_elements=[Customer.store_id, Customer.customer_id],
        set_=set_,
        # An erased customer comes back only through a newer upsert.
        where=Customer.updated_at <= stmt.excluded.updated_at,
    )


async def _upsert_customers(
    session: AsyncSession, store_id: str, events: Sequence[ValidEvent]
) -> None:
    """Rows that name the same fields share one statement, their rows as one JSON parameter."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in _customer_rows(events):
        groups.setdefault(tuple(sorted(row)), []).append(row)
    for columns, rows in groups.items():
        await session.execute(_customer_upsert(columns), rows_param(store_id, rows))


async def _erase_customer(session: AsyncSession, store_id: str, event: ValidEvent) -> None:
    data = event.data
    assert isinstance(data, CustomerErased)
    personal = {"email": None, "phone": None, "first_name": None, "locale": None, "timezone": None}
    stmt = insert(Customer).values(
        store_id=store_id,
        customer_id=data.customer_id,
        erased_at=event.occurred_at,
        updated_at=event.occurred_at,
        shopper_groups=[],
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[Customer.store_id, Customer.customer_id],
            set_={**personal, "erased_at": event.occurred_at, "updated_at": event.occurred_at},
        )
    )
    await erase_personal_data(session, store_id, data.customer_id)


_PRODUCT_FIELDS = (
    "title",
    "price",
    "currency",
    "category_ids",
    "available",
    "url",
    "image_url",
    "description",
    "brand",
    "gtin",
    "deleted_at",
    "updated_at",
)
_NEW_PRODUCTS = insert_json_rows(Product, ("product_id", *_PRODUCT_FIELDS))
_UPSERT_PRODUCTS = _NEW_PRODUCTS.on_conflict_do_update(
    index_elements=[Product.store_id, Product.product_id],
    set_={name: _NEW_PRODUCTS.excluded[name] for name in _PRODUCT_FIELDS},
    where=Product.updated_at <= _NEW_PRODUCTS.excluded.updated_at,
).returning(Product.product_id)
_INSERT_VARIANTS = insert_json_rows(
    ProductVariant, ("product_id", "variant_id", "price", "available", "sku")
)


async def _upsert_products(session: AsyncSession, store_id: str, events: list[ValidEvent]) -> None:
    rows: list[dict[str, Any]] = []
    variants: list[dict[str, Any]] = []
    for event in events:
        data = event.data
        assert isinstance(data, ProductUpserted)
        row = data.model_dump(exclude={"variants"})
        rows.append({**row, "updated_at": event.occurred_at, "deleted_at": None})
        variants += [{**v.model_dump(), "product_id": data.product_id} for v in data.variants or []]
    # Statements of constant text, the rows as JSON (models/json_rows.py).
    written = await session.scalars(_UPSERT_PRODUCTS, rows_param(store_id, rows))
    fresh = set(written.all())
    await session.execute(
        delete(ProductVariant).where(
            ProductVariant.store_id == store_id, ProductVariant.product_id.in_(fresh)
        )
    )
    fresh_variants = [v for v in variants if v["product_id"] in fresh]
    if fresh_variants:
        await session.execute(_INSERT_VARIANTS, rows_param(store_id, fresh_variants))


async def _delete_product(session: AsyncSession, store_id: str, event: ValidEvent) -> None:
    data = event.data
    assert isinstance(data, ProductDeleted)
    await session.execute(
        update(Product)
        .where(
            Product.store_id == store_id,
            Product.product_id == data.product_id,
            Product.updated_at <= event.occurred_at,
        )
        .values(available=False, deleted_at=event.occurred_at, updated_at=event.occurred_at)
    )


# One statement of constant text for all the batch's carts, their rows as one JSON document.
_UPSERT_CARTS = text(
    """
    INSERT INTO carts (store_id, cart_id, customer_id, currency, items, subtotal, updated_at)
    SELECT :store_id, c.cart_id, c.customer_id, c.currency, c.items, c.subtotal, c.updated_at
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS c(
        cart_id text, customer_id text, currency text, items jsonb, subtotal bigint,
        updated_at timestamptz
    )
    ON CONFLICT (store_id, cart_id) DO UPDATE SET
        customer_id = coalesce(excluded.customer_id, carts.customer_id),
        currency = excluded.currency,
        items = excluded.items,
        subtotal = excluded.subtotal,
        updated_at = excluded.updated_at
    WHERE carts.updated_at <= excluded.updated_at
    """
)


async def _upsert_carts(session: AsyncSession, store_id: str, events: list[ValidEvent]) -> None:
    rows = []
    for event in events:
        data = event.data
        assert isinstance(data, CartUpdated)
        rows.append(
            {
                "cart_id": data.cart_id,
                "customer_id": data.customer_id,
                "currency": data.currency,
                "items": orjson.Fragment(_ITEMS.dump_json(data.items, exclude_none=True)),
                "subtotal": sum(i.quantity * i.unit_price for i in data.items),
                "updated_at": event.occurred_at,
            }
        )
    await session.execute(_UPSERT_CARTS, rows_param(store_id, rows))


# Each order's cart is marked ordered, all of the batch's in one statement.
_CARTS_ORDERED = text(
    """
    UPDATE carts SET ordered_at = o.ordered_at
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS o(cart_id text, ordered_at timestamptz)
    WHERE carts.store_id = :store_id AND carts.cart_id = o.cart_id
    """
)


_INSERT_ORDERS = (
    insert_json_rows(
        Order,
        (
            "order_id",
            "customer_id",
            "cart_id",
            "currency",
            "items",
            "total",
            "discount_codes",
            "attribution",
            "placed_at",
            "updated_at",
        ),
    )
    .on_conflict_do_nothing()
    .returning(Order.order_id)
)


async def _place_orders(session: AsyncSession, store_id: str, events: list[ValidEvent]) -> None:
    """The batch's orders in one statement (the first event of an order wins, as one already
    stored does); each order placed now is attributed, in the batch's order."""
    rows: list[dict[str, Any]] = []
    for event in events:
        data = event.data
        assert isinstance(data, OrderPlaced)
        attribution = data.attribution.model_dump(exclude_none=True) if data.attribution else None
        rows.append(
            {
                "order_id": data.order_id,
                "customer_id": data.customer_id,
                "cart_id": data.cart_id,
                "currency": data.currency,
                "items": orjson.Fragment(_ITEMS.dump_json(data.items, exclude_none=True)),
                "total": data.total,
                "discount_codes": data.discount_codes or [],
                "attribution": attribution,
                "placed_at": event.occurred_at,
                "updated_at": event.occurred_at,
            }
        )
    placed = set(await session.scalars(_INSERT_ORDERS, rows_param(store_id, rows)))
    fresh: list[tuple[str, OrderPlaced, datetime]] = []
    for event in events:
        data = event.data
        assert isinstance(data, OrderPlaced)
        if data.order_id in placed:
            placed.discard(data.order_id)  # a second event of the same order adds nothing
            fresh.append((event.id, data, event.occurred_at))
    # Once per order: touches, the flow message, the ad click and the programs.
    clicks = await attribute_placed_orders(session, store_id, [(d, at) for _, d, at in fresh])
    networks = await conversion_networks(session, store_id)
    for (event_id, data, placed_at), click in zip(fresh, clicks, strict=True):
        attribution = data.attribution.model_dump(exclude_none=True) if data.attribution else {}
        await attribute_affiliate(session, store_id, data, placed_at)
        if attribution.get("visitor_id"):  # the ads report: clicks of the visitor the order names
            await record_ad_conversion(
                session,
                store_id,
                order_id=data.order_id,
                click=click,
                placed_at=placed_at,
                revenue=data.total,
                currency=data.currency,
            )
        if token := attribution.get("share_token"):
            await sharing.attribute_order(session, store_id, data.customer_id, token, placed_at)
        await plan_order_conversions(session, store_id, event_id, data, placed_at, networks)
    carts = [
        {"cart_id": e.data.cart_id, "ordered_at": e.occurred_at}
        for e in events
        if isinstance(e.data, OrderPlaced) and e.data.cart_id
    ]
    if carts:
        await session.execute(_CARTS_ORDERED, rows_param(store_id, carts))


async def _change_order(
    session: AsyncSession, store_id: str, event: ValidEvent, status: str
) -> None:
    data = event.data
    assert isinstance(data, OrderChanged)
    values: dict[str, Any] = {"status": status, "updated_at": event.occurred_at}
    if status == "refunded":
        values["refunded_amount"] = (
            Order.refunded_amount + data.amount if data.amount is not None else Order.total
        )
        if data.amount is not None:
            # A partial refund keeps the order placed, with the amount refunded so far.
            values["status"] = "partially_refunded"
    await session.execute(
        update(Order)
        .where(
            Order.store_id == store_id,
            Order.order_id == data.order_id,
            Order.status != "cancelled",
        )
        .values(**values)
    )
    await settle_order_change(
        session, store_id, data.order_id, cancelled=status == "cancelled", refund=data.amount
    )
    await plan_adjustment(session, store_id, event.id, data.order_id, event.occurred_at)
    if status == "cancelled" or data.amount is None:
        # Cancelled or refunded in full: the order's coupon uses and gift-card draws come back,
        # and a referral it made, not rewarded yet, is void.
        await release_checkout(session, store_id, data.order_id)
        reason = "order_cancelled" if status == "cancelled" else "order_refunded"
        await referrals.void_for_order(session, store_id, data.order_id, reason)
