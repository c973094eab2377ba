"""TikTok Shop order intake (`POST /v1/webhooks/tiktok-shop/{store_id}`, docs/channels.md).

TikTok signs each webhook with the app's secret; a webhook says only that an order's status
changed, so the order itself is read from the Partner API and becomes engine events stored
through the same intake as the platform's (`accept_events`): a paid order is `order.placed` with
`channel: "tiktok_shop"`, a cancelled paid order also `order.cancelled`. The event ids are the
order id and what happened (`tiktok_shop:{order}:placed` / `:cancelled`), so a webhook TikTok
delivers twice, or the several status changes of one order, store each event once.

The order's current state decides, not the webhook's status: webhooks can arrive out of order."""

import json
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from integrations.ad_networks import NetworkUnavailable
from integrations.tiktok_shop import TikTokRefused, TikTokShopClient, webhook_signature_ok
from models import CatalogSyncItem, Customer
from services.channels.connections import ChannelKeys, Network, credentials
from services.checkout.pricing.money import to_minor
from services.errors import DomainError, InvalidInput, Unauthorized
from services.events.intake import accept_events

ORDER_STATUS_CHANGE = 1
# Paid and not cancelled: ON_HOLD is paid, within the buyer's remorse window.
PAID_STATUSES = {
    "ON_HOLD",
    "AWAITING_SHIPMENT",
    "PARTIALLY_SHIPPING",
    "AWAITING_COLLECTION",
    "IN_TRANSIT",
    "DELIVERED",
    "COMPLETED",
}
ORDER_PREFIX = "tts_"  # our order id of TikTok order N is `tts_N`; its buyer `tts_<user_id>`
RETRY_AFTER_SECONDS = 60
CALL_SECONDS = 10.0


class ChannelUnavailable(DomainError):
    """TikTok could not be asked (or refused our credentials): TikTok retries a webhook that
    did not get a 2xx, so answering 503 delays the order, never loses it."""

    status_code = 503
    code = "channel_unavailable"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}


async def receive_webhook(
    session: AsyncSession,
    store_id: str,
    body: bytes,
    signature: str | None,
    keys: ChannelKeys,
    http: httpx.AsyncClient | None = None,
) -> dict[str, int]:
    """Check the signature on the raw body, then store the order's events. 401 (and nothing
    changed) for a bad signature or a store without a TikTok Shop connection: the same answer,
    so the URL tells a stranger nothing."""
    creds = await credentials(session, store_id, Network.TIKTOK_SHOP, keys)
    if creds is None or not webhook_signature_ok(
        creds.ids["app_key"], creds.secrets["app_secret"], body, signature
    ):
        raise Unauthorized("the webhook's signature does not match this store's TikTok Shop app")
    payload = _payload(body)
    if payload.get("type") != ORDER_STATUS_CHANGE:
        return {"accepted": 0, "duplicates": 0}  # other topics: acknowledged, not used
    data = payload.get("data")
    order_id = data.get("order_id") if isinstance(data, dict) else None
    if not isinstance(order_id, str | int) or not str(order_id).isascii() or not str(order_id):
        raise InvalidInput("data.order_id: required", details=[{"field": "data.order_id"}])
    order = await _fetch(creds.ids, creds.secrets, creds.base_url, str(order_id), http)
    if order is None:
        return {"accepted": 0, "duplicates": 0}  # not an order of this shop
    events = await order_events(session, store_id, order)
    if not events:
        return {"accepted": 0, "duplicates": 0}  # not paid yet: nothing happened for us
    result = await accept_events(session, store_id, events)
    return {"accepted": result.accepted, "duplicates": len(result.duplicates)}


def _payload(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except ValueError:
        raise InvalidInput("the body is not JSON") from None
    if not isinstance(payload, dict):
        raise InvalidInput("the body must be a JSON object")
    return payload


async def _fetch(
    ids: Mapping[str, str],
    secrets: Mapping[str, str],
    base_url: str | None,
    order_id: str,
    http: httpx.AsyncClient | None,
) -> dict[str, Any] | None:
    try:
        if http is not None:
            return await TikTokShopClient(http, ids, secrets, base_url).order(order_id)
        async with httpx.AsyncClient(timeout=CALL_SECONDS, follow_redirects=False) as client:
            return await TikTokShopClient(client, ids, secrets, base_url).order(order_id)
    except NetworkUnavailable as exc:
        raise ChannelUnavailable(f"TikTok Shop could not be asked for the order: {exc}") from exc
    except TikTokRefused as exc:
        raise ChannelUnavailable(f"reading the order: {exc}") from exc


def _time(value: Any, default: datetime) -> datetime:
    if isinstance(value, int) and value > 0:
        return datetime.fromtimestamp(value, UTC)
    return default


async def order_events(
    session: AsyncSession, store_id: str, order: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The engine events of a TikTok order as it is now (event dicts as `POST /v1/events`
    takes them); empty while it is unpaid or was cancelled before payment."""
    status = str(order.get("status") or "")
    paid = status in PAID_STATUSES or (status == "CANCELLED" and bool(order.get("paid_time")))
    if not paid:
        return []
    tiktok_id = str(order["id"])
    order_id = f"{ORDER_PREFIX}{tiktok_id}"
    now = datetime.now(UTC)
    payment = order.get("payment") if isinstance(order.get("payment"), dict) else {}
    assert isinstance(payment, dict)
    currency = str(payment.get("currency") or "")
    try:
        total = to_minor(str(payment.get("total_amount") or "0"), currency)
        shipping = to_minor(str(payment.get("shipping_fee") or "0"), currency)
        items = await _items(session, store_id, order.get("line_items") or [], currency)
    except ValueError as exc:
        raise InvalidInput(f"the TikTok order has an amount that is not a number: {exc}") from None
    placed_at = _time(order.get("paid_time") or order.get("create_time"), now)
    events: list[dict[str, Any]] = [
        {
            "id": f"tiktok_shop:{tiktok_id}:placed",
            "type": "order.placed",
            "occurred_at": placed_at.isoformat(),
            "data": {
                "order_id": order_id,
                "customer_id": await _customer(session, store_id, order),
                "currency": currency,
                "items": items,
                "total": total,
                "shipping": min(shipping, total),
                "channel": "tiktok_shop",
            },
        }
    ]
    if status == "CANCELLED":
        events.append(
            {
                "id": f"tiktok_shop:{tiktok_id}:cancelled",
                "type": "order.cancelled",
                "occurred_at": max(_time(order.get("update_time"), now), placed_at).isoformat(),
                "data": {"order_id": order_id},
            }
        )
    return events


async def _customer(session: AsyncSession, store_id: str, order: Mapping[str, Any]) -> str:
    """The store's customer with the buyer's email, so the order ends that customer's recovery
    runs; otherwise a customer of TikTok's own (`tts_<user_id>`)."""
    email = order.get("buyer_email")
    if isinstance(email, str) and "@" in email:
        found = await session.scalar(
            select(Customer.customer_id)
            .where(
                Customer.store_id == store_id,
                func.lower(Customer.email) == email.strip().lower(),
                Customer.erased_at.is_(None),
            )
            .order_by(Customer.customer_id)
            .limit(1)
        )
        if found is not None:
            return found
    return f"{ORDER_PREFIX}{order.get('user_id') or order['id']}"


async def _items(
    session: AsyncSession, store_id: str, lines: Any, currency: str
) -> list[dict[str, Any]]:
    """TikTok lists one line per unit; ours are per product and variant with a quantity. Our
    product is the one the catalog sync pushed as that TikTok product, else the seller SKU (the
    sync sets it to our variant id, or our product id for a product without variants)."""
    lines = [line for line in lines if isinstance(line, dict)] if isinstance(lines, list) else []
    tiktok_ids = {str(line.get("product_id")) for line in lines if line.get("product_id")}
    known: dict[str, str] = {}
    if tiktok_ids:
        rows = await session.execute(
            select(CatalogSyncItem.remote_id, CatalogSyncItem.product_id).where(
                CatalogSyncItem.store_id == store_id,
                CatalogSyncItem.network == "tiktok_shop",
                CatalogSyncItem.remote_id.in_(tiktok_ids),
            )
        )
        known = {str(r.remote_id): r.product_id for r in rows}
    units: Counter[tuple[str, str | None, int]] = Counter()
    for line in lines:
        sku = str(line.get("seller_sku") or "") or None
        product = known.get(str(line.get("product_id"))) or sku
        product = product or f"{ORDER_PREFIX}{line.get('product_id') or 'unknown'}"
        variant = sku if sku and sku != product else None
        price = line.get("sale_price") or line.get("original_price") or "0"
        units[(product, variant, to_minor(str(price), currency))] += 1
    return [
        {"product_id": p, "quantity": n, "unit_price": price} | ({"variant_id": v} if v else {})
        for (p, v, price), n in units.items()
    ]
