"""The sharing program: a customer's share link, the unique visitors it brings within the
program's window, and the orders attributed to it. The link qualifies for its reward once, when
the visits reach `visits_required` or (with `reward_on_order`) an order arrives through it; the
worker's outbox (reward_outbox.py) then starts its `SharingRewardWorkflow`, which grants the
reward through the referral program's reward path (services/growth/rewards.py).

The sharer's own visits do not count: a visitor id equal to the sharer's customer id, or one
seen as the sharer's (the attribution `visitor_id` of an order the sharer placed)."""

import secrets
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import exists, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from flow_contract import ProgramKind, ReferralReason, ReferralStatus, RewardSettled
from models import Order, Product, ShareLink, ShareVisit
from services.checkout.store_credit import require_customer
from services.errors import Conflict, NotFound
from services.growth.referrals import share_url
from services.growth.rewards import Reward, check_reward, grant, load_config, save_config
from services.ids import new_id

KIND = ProgramKind.SHARING
UTM = {"utm_source": "share", "utm_medium": "referral", "utm_campaign": "sharing"}


class SharingProgram(BaseModel):
    """The body of `PUT /v1/programs/sharing`."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool
    reward: Reward
    visits_required: int = Field(strict=True, ge=1, le=1_000_000)
    window_days: int = Field(
        strict=True, ge=1, le=365, description="Visits count for this long after the link is made"
    )
    reward_on_order: bool = Field(
        default=False, description="An order through the link qualifies it too"
    )


async def put_program(
    session: AsyncSession, store_id: str, program: SharingProgram
) -> SharingProgram:
    reward = await check_reward(session, store_id, program.reward, "reward")
    saved = program.model_copy(update={"reward": reward})
    await save_config(session, store_id, KIND, saved.model_dump(mode="json"))
    return saved


async def get_program(session: AsyncSession, store_id: str) -> SharingProgram | None:
    config = await load_config(session, store_id, KIND)
    return SharingProgram.model_validate(config) if config is not None else None


async def create_link(
    session: AsyncSession,
    store_id: str,
    customer_id: str,
    product_id: str | None,
    storefront: str,
) -> ShareLink:
    """A link of the customer's to the storefront (or a product's page), with its token and the
    sharing UTM tags."""
    program = await load_config(session, store_id, KIND)
    if program is None or not program.get("enabled"):
        raise Conflict("the sharing program is not enabled", code="program_disabled")
    await require_customer(session, store_id, customer_id)
    base = storefront.rstrip("/")
    if product_id is not None:
        product = await session.get(Product, (store_id, product_id))
        if product is None:
            raise NotFound("product not found")
        base = product.url or f"{base}/products/{quote(product_id, safe='')}"
    token = secrets.token_urlsafe(16)
    link = ShareLink(
        id=new_id("shl"),
        store_id=store_id,
        token=token,
        customer_id=customer_id,
        product_id=product_id,
        url=share_url(base, share=token, **UTM),
        visits=0,
        orders=0,
        created_at=datetime.now(UTC),
    )
    session.add(link)
    await session.flush()
    return link


async def _live_link(session: AsyncSession, store_id: str, token: str) -> ShareLink | None:
    """The store's link with this token, locked: its count and qualification change together."""
    return await session.scalar(
        select(ShareLink)
        .where(
            ShareLink.store_id == store_id,
            ShareLink.token == token,
            ShareLink.disabled_at.is_(None),
        )
        .with_for_update()
    )


def _window_open(link: ShareLink, config: dict[str, Any], now: datetime) -> bool:
    return now < link.created_at + timedelta(days=int(config.get("window_days", 0)))


def _qualify(link: ShareLink, by: str, now: datetime) -> None:
    if link.qualified_at is None:
        link.qualified_at, link.qualified_by = now, by


async def _sharers_visitor(session: AsyncSession, link: ShareLink, visitor_id: str) -> bool:
    if visitor_id == link.customer_id:
        return True
    return bool(
        await session.scalar(
            select(
                exists().where(
                    Order.store_id == link.store_id,
                    Order.customer_id == link.customer_id,
                    Order.attribution["visitor_id"].astext == visitor_id,
                )
            )
        )
    )


async def record_visit(
    session: AsyncSession, store_id: str, token: str, visitor_id: str
) -> dict[str, Any]:
    """Count a visitor of the link: `{counted, visits, reason?}` (`own_visit`, `already_counted`,
    `window_closed`, `program_disabled`). 404 for a token the store does not know."""
    link = await _live_link(session, store_id, token)
    if link is None:
        raise NotFound("share link not found")
    config = await load_config(session, store_id, KIND) or {}
    now = datetime.now(UTC)
    reason = None
    if not config.get("enabled"):
        reason = "program_disabled"
    elif not _window_open(link, config, now):
        reason = "window_closed"
    elif await _sharers_visitor(session, link, visitor_id):
        reason = "own_visit"
    else:
        added = await session.scalar(
            insert(ShareVisit)
            .values(link_id=link.id, visitor_id=visitor_id, store_id=store_id, visited_at=now)
            .on_conflict_do_nothing()
            .returning(ShareVisit.visitor_id)
        )
        if added is None:
            reason = "already_counted"
        else:
            link.visits += 1
            if link.visits >= int(config["visits_required"]):
                _qualify(link, "visits", now)
    await session.flush()
    out: dict[str, Any] = {"counted": reason is None, "visits": link.visits}
    if reason:
        out["reason"] = reason
    return out


async def attribute_order(
    session: AsyncSession, store_id: str, customer_id: str, token: str, placed_at: datetime
) -> None:
    """An order through a shared link (`attribution.share_token`) counts for the link; with
    `reward_on_order` it qualifies the link. The sharer's own orders do not count."""
    link = await _live_link(session, store_id, token)
    if link is None or link.customer_id == customer_id:
        return
    link.orders += 1
    config = await load_config(session, store_id, KIND) or {}
    if (
        config.get("enabled")
        and config.get("reward_on_order")
        and _window_open(link, config, placed_at)
    ):
        _qualify(link, "order", placed_at)
    await session.flush()


async def claim_qualified(
    session: AsyncSession, limit: int, stores: Collection[str] | None = None
) -> list[ShareLink]:
    """Qualified links whose run is not started yet, locked (another worker skips them)."""
    query = select(ShareLink).where(
        ShareLink.qualified_at.is_not(None), ShareLink.run_started_at.is_(None)
    )
    if stores is not None:
        query = query.where(ShareLink.store_id.in_(stores))
    rows = await session.scalars(
        query.order_by(ShareLink.qualified_at).limit(limit).with_for_update(skip_locked=True)
    )
    return list(rows)


def mark_started(rows: list[ShareLink]) -> None:
    now = datetime.now(UTC)
    for row in rows:
        row.run_started_at = now


async def settle_share_reward(session: AsyncSession, store_id: str, link_id: str) -> RewardSettled:
    """Grant the sharer the program's reward, once (under the link's lock): a retried activity
    finds it settled."""
    link = await session.scalar(
        select(ShareLink)
        .where(ShareLink.store_id == store_id, ShareLink.id == link_id)
        .with_for_update()
    )
    if link is None:
        return RewardSettled(ReferralStatus.VOIDED, ReferralReason.UNKNOWN_CODE)
    if link.reward_status is not None:
        done = ReferralReason(link.reward_reason) if link.reward_reason else None
        return RewardSettled(ReferralStatus(link.reward_status), done)
    config = await load_config(session, store_id, KIND) or {}
    reason: ReferralReason | None = None
    if link.customer_id is None:
        reason = ReferralReason.CUSTOMER_ERASED
    elif not config.get("enabled"):
        reason = ReferralReason.PROGRAM_DISABLED
    else:
        note = f"sharing reward for link {link.id}"
        granted = await grant(session, store_id, link.customer_id, config["reward"], note)
        if granted is None:
            reason = ReferralReason.REWARD_UNAVAILABLE
        else:
            link.granted, link.rewarded_at, link.notice = granted, datetime.now(UTC), "rewarded"
    link.reward_status = ReferralStatus.VOIDED if reason else ReferralStatus.REWARDED
    link.reward_reason = reason
    await session.flush()
    return RewardSettled(ReferralStatus(link.reward_status), reason)


async def erase_customer(session: AsyncSession, store_id: str, customer_id: str) -> None:
    """`customer.erased`: the customer's links stop counting and lose the customer's id (what
    was granted stays, as amounts)."""
    await session.execute(
        update(ShareLink)
        .where(ShareLink.store_id == store_id, ShareLink.customer_id == customer_id)
        .values(customer_id=None, disabled_at=datetime.now(UTC))
    )
