"""Affiliates as staff manage them, and the storefront clicks on their links. A commission is
`percent` (its value in basis points: 1250 = 12.50% of the order without shipping) or `fixed`
(minor units of the affiliate's currency, per order). docs/growth.md tells the whole story."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models import Affiliate, AffiliateClick, PayoutSchedule, Store
from services.checkout.code_text import COUPON_CODE, normalize_coupon, random_code
from services.errors import Conflict, NotFound, invalid_field
from services.ids import new_id
from services.pagination import fetch_page
from services.stores.settings import StoreDefaults, effective_settings

MAX_BASIS_POINTS = 10_000  # 100%
CODE_LENGTH = 8


@dataclass(frozen=True)
class CommissionRule:
    type: str  # percent | fixed
    value: int


@dataclass(frozen=True)
class PayoutRule:
    mode: str  # manual | automatic
    minimum: int


class CouponCodeTaken(Conflict):
    code = "coupon_code_taken"


def _check_commission(rule: CommissionRule) -> None:
    if rule.type == "percent" and not 1 <= rule.value <= MAX_BASIS_POINTS:
        raise invalid_field(
            "commission.value", "a percent is in basis points, 1 to 10000 (1250 = 12.50%)"
        )
    if rule.type == "fixed" and rule.value < 1:
        raise invalid_field("commission.value", "a fixed commission is at least 1 minor unit")


def _coupon(value: str | None) -> str | None:
    if value is None:
        return None
    code = normalize_coupon(value)
    if not COUPON_CODE.match(code):
        raise invalid_field("coupon_code", "3 to 64 letters, digits, '-' or '_'")
    return code


async def _store(session: AsyncSession, store_id: str) -> Store:
    store = await session.get(Store, store_id)
    if store is None:
        raise NotFound("store not found")
    return store


def link_of(store: Store, defaults: StoreDefaults, code: str) -> str:
    """The affiliate's link: the storefront with `?aff=CODE`, which the storefront reports as
    a click (`POST /v1/storefront/affiliate-clicks`)."""
    return f"{effective_settings(store, defaults).storefront_base_url}/?aff={code}"


async def request_schedule(session: AsyncSession, store_id: str) -> None:
    """Ask the worker to create (or update) the store's weekly payout schedule."""
    now = datetime.now(UTC)
    stmt = insert(PayoutSchedule).values(store_id=store_id, requested_at=now, synced_at=None)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[PayoutSchedule.store_id],
            set_={"requested_at": now, "synced_at": None},
        )
    )


async def _save(session: AsyncSession, affiliate: Affiliate) -> None:
    """Flush; a coupon code another affiliate of the store holds is a 409."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise CouponCodeTaken(
            "another affiliate of the store has this coupon code",
            details=[{"field": "coupon_code", "message": "taken"}],
        ) from exc


async def create_affiliate(
    session: AsyncSession,
    store_id: str,
    *,
    name: str,
    email: str,
    commission: CommissionRule,
    payout: PayoutRule,
    cookie_days: int,
    holding_days: int,
    currency: str | None,
    coupon_code: str | None,
) -> Affiliate:
    _check_commission(commission)
    store = await _store(session, store_id)
    now = datetime.now(UTC)
    code = random_code(CODE_LENGTH)
    while await session.scalar(
        select(Affiliate.id).where(Affiliate.store_id == store_id, Affiliate.code == code)
    ):
        code = random_code(CODE_LENGTH)
    affiliate = Affiliate(
        id=new_id("aff"),
        store_id=store_id,
        name=name,
        email=email,
        code=code,
        coupon_code=_coupon(coupon_code),
        commission_type=commission.type,
        commission_value=commission.value,
        cookie_days=cookie_days,
        holding_days=holding_days,
        payout_mode=payout.mode,
        payout_minimum=payout.minimum,
        currency=currency or store.currency,
        active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(affiliate)
    await _save(session, affiliate)
    if payout.mode == "automatic":
        await request_schedule(session, store_id)
    return affiliate


async def get_affiliate(
    session: AsyncSession, store_id: str, affiliate_id: str, *, lock: bool = False
) -> Affiliate:
    query = select(Affiliate).where(Affiliate.id == affiliate_id, Affiliate.store_id == store_id)
    affiliate = await session.scalar(query.with_for_update() if lock else query)
    if affiliate is None:
        raise NotFound("affiliate not found", code="affiliate_not_found")
    return affiliate


async def list_affiliates(
    session: AsyncSession, store_id: str, *, limit: int, cursor: str | None
) -> tuple[list[Affiliate], str | None]:
    query = select(Affiliate).where(Affiliate.store_id == store_id)
    return await fetch_page(session, query, Affiliate, limit, cursor)


async def update_affiliate(
    session: AsyncSession, store_id: str, affiliate_id: str, changes: dict[str, Any]
) -> Affiliate:
    """Apply the fields given; a new commission rule counts for orders placed from now on."""
    affiliate = await get_affiliate(session, store_id, affiliate_id, lock=True)
    if (commission := changes.pop("commission", None)) is not None:
        rule = CommissionRule(**commission)
        _check_commission(rule)
        affiliate.commission_type, affiliate.commission_value = rule.type, rule.value
    if (payout := changes.pop("payout", None)) is not None:
        affiliate.payout_mode, affiliate.payout_minimum = payout["mode"], payout["minimum"]
        if payout["mode"] == "automatic":
            await request_schedule(session, store_id)
    if "coupon_code" in changes:
        changes["coupon_code"] = _coupon(changes["coupon_code"])
    for name, value in changes.items():
        if value is None and name != "coupon_code":
            raise invalid_field(name, "cannot be cleared")
        setattr(affiliate, name, value)
    affiliate.updated_at = datetime.now(UTC)
    await _save(session, affiliate)
    return affiliate


async def record_click(
    session: AsyncSession, store_id: str, code: str, visitor_id: str, landing_url: str | None
) -> None:
    """A visitor arrived through an affiliate's link; the last click in its window counts."""
    affiliate_id = await session.scalar(
        select(Affiliate.id).where(
            Affiliate.store_id == store_id,
            Affiliate.code == code.strip().upper(),
            Affiliate.active.is_(True),
        )
    )
    if affiliate_id is None:
        raise NotFound("no active affiliate has this code", code="affiliate_not_found")
    session.add(
        AffiliateClick(
            store_id=store_id,
            affiliate_id=affiliate_id,
            visitor_id=visitor_id,
            landing_url=landing_url,
            clicked_at=func.now(),
        )
    )
    await session.flush()
