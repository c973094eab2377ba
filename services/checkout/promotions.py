"""Promotions: create, read, change and end them, and which of them are live at a moment."""

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Promotion
from services.checkout import pricing
from services.checkout.catalog_refs import require_catalog_refs
from services.errors import Conflict, NotFound, invalid_field, invalid_from_pricing
from services.ids import new_id
from services.pagination import fetch_page
from services.stores.service import get_store

Status = Literal["scheduled", "active", "ended", "disabled"]
EDITABLE = (
    "name",
    "priority",
    "exclusive",
    "requires_coupon",
    "currency",
    "starts_at",
    "ends_at",
    "conditions",
    "actions",
)
# Conditions and actions whose `amount` is money: such a promotion prices one currency only.
MONEY_TYPES = {"cart_total_min", "cart_total_max", "fixed_off"}


def promotion_status(promotion: Promotion, now: datetime) -> Status:
    if promotion.disabled_at is not None:
        return "disabled"
    if promotion.starts_at is not None and promotion.starts_at > now:
        return "scheduled"
    if promotion.ends_at is not None and promotion.ends_at <= now:
        return "ended"
    return "active"


def is_live(now: datetime) -> ColumnElement[bool]:
    return and_(
        Promotion.disabled_at.is_(None),
        or_(Promotion.starts_at.is_(None), Promotion.starts_at <= now),
        or_(Promotion.ends_at.is_(None), Promotion.ends_at > now),
    )


async def _checked(
    session: AsyncSession, store_id: str, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """Validate a whole promotion body; returns the columns to store."""
    try:
        pricing.promotion_from_dict("check", fields, 0)
    except ValueError as exc:
        raise invalid_from_pricing(exc) from None
    starts_at, ends_at = fields.get("starts_at"), fields.get("ends_at")
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise invalid_field("ends_at", "must be after starts_at")
    refs = [
        (f"actions.{k}.{key}", key, action[key])
        for k, action in enumerate(fields["actions"])
        if action.get("type") == "free_product"
        for key in ("product_id", "variant_id")
        if action.get(key) is not None
    ]
    await require_catalog_refs(session, store_id, refs)
    values: dict[str, Any] = {name: fields.get(name) for name in EDITABLE}
    values["conditions"] = list(fields.get("conditions") or [])
    values["priority"] = fields.get("priority") or 0
    values["exclusive"] = bool(fields.get("exclusive"))
    values["requires_coupon"] = bool(fields.get("requires_coupon"))
    kinds = {part.get("type") for part in (*values["conditions"], *fields["actions"])}
    if values["currency"] is None and kinds & MONEY_TYPES:
        values["currency"] = (await get_store(session, store_id)).currency
    return values


async def create_promotion(
    session: AsyncSession, store_id: str, body: Mapping[str, Any]
) -> Promotion:
    values = await _checked(session, store_id, body)
    now = datetime.now(UTC)
    promotion = Promotion(
        id=new_id("promo"), store_id=store_id, created_at=now, updated_at=now, **values
    )
    session.add(promotion)
    await session.flush()
    return promotion


async def get_promotion(session: AsyncSession, store_id: str, promotion_id: str) -> Promotion:
    promotion = await session.get(Promotion, promotion_id)
    if promotion is None or promotion.store_id != store_id:
        raise NotFound("promotion not found")
    return promotion


async def update_promotion(
    session: AsyncSession,
    store_id: str,
    promotion_id: str,
    changes: Mapping[str, Any],
) -> Promotion:
    """Apply the fields given over the current ones; the result is validated as a whole."""
    promotion = await get_promotion(session, store_id, promotion_id)
    if promotion.disabled_at is not None:
        raise Conflict("a deleted promotion cannot be changed", code="promotion_disabled")
    current = {name: getattr(promotion, name) for name in EDITABLE}
    values = await _checked(session, store_id, {**current, **changes})
    for name, value in values.items():
        setattr(promotion, name, value)
    promotion.version += 1
    promotion.updated_at = datetime.now(UTC)
    await session.flush()
    return promotion


async def disable_promotion(session: AsyncSession, store_id: str, promotion_id: str) -> Promotion:
    """Soft delete: it stops applying at once, its codes stop working, its history stays."""
    promotion = await get_promotion(session, store_id, promotion_id)
    if promotion.disabled_at is None:
        promotion.disabled_at = promotion.updated_at = datetime.now(UTC)
        promotion.version += 1
        await session.flush()
    return promotion


async def list_promotions(
    session: AsyncSession, store_id: str, *, status: Status | None, limit: int, cursor: str | None
) -> tuple[Sequence[Promotion], str | None]:
    query = select(Promotion).where(Promotion.store_id == store_id)
    now = datetime.now(UTC)
    if status == "disabled":
        query = query.where(Promotion.disabled_at.is_not(None))
    elif status == "active":
        query = query.where(is_live(now))
    elif status == "scheduled":
        query = query.where(Promotion.disabled_at.is_(None), Promotion.starts_at > now)
    elif status == "ended":
        query = query.where(Promotion.disabled_at.is_(None), Promotion.ends_at <= now)
    return await fetch_page(session, query, Promotion, limit, cursor)
