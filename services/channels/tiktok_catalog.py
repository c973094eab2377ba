"""The catalog sync's TikTok Shop pusher (the mechanism is services/channels/catalog_sync.py):
the store's dirty products go through the Partner API: create, update, or deactivate a deleted
one. TikTok's product id is kept as the item's `remote_id`.

What is sent: title, description (the title when there is none), the image URL, and one SKU per
variant (a product without variants is one SKU) whose `seller_sku` is our variant id (or product
id): the order intake maps TikTok's lines back to our ids with it."""

from typing import Any

import httpx

from integrations.ad_networks import NetworkUnavailable
from integrations.tiktok_shop import TikTokRefused, TikTokShopClient
from models import Product, ProductVariant
from models.database import SessionMaker
from services.channels.catalog_sync import Outcome, Push, sync_network
from services.channels.connections import ChannelKeys, Credentials, Network
from services.checkout.pricing.money import format_amount

BATCH = 50
# Our catalog knows whether a product is available, not how many: TikTok wants a number.
AVAILABLE_STOCK = 999


def product_body(product: Product, variants: list[ProductVariant]) -> dict[str, Any]:
    def sku(seller_sku: str, price: int, available: bool) -> dict[str, Any]:
        amount = format_amount(price, product.currency)
        return {
            "seller_sku": seller_sku,
            "price": {"amount": amount, "currency": product.currency},
            "inventory": [{"quantity": AVAILABLE_STOCK if available else 0}],
        }

    skus = [sku(v.variant_id, v.price, v.available and product.available) for v in variants]
    body: dict[str, Any] = {
        "title": product.title,
        "description": product.description or product.title,
        "skus": skus or [sku(product.product_id, product.price, product.available)],
    }
    if product.image_url:
        body["main_images"] = [{"uri": product.image_url}]
    return body


async def _send(client: TikTokShopClient, push: Push) -> Outcome:
    try:
        if push.product is None:
            if push.remote_id is not None:
                await client.deactivate_products([push.remote_id])
            return Outcome(push, push.remote_id)
        body = product_body(push.product, push.variants)
        if push.remote_id is None:
            return Outcome(push, await client.create_product(body))
        return Outcome(push, await client.update_product(push.remote_id, body))
    except (NetworkUnavailable, TikTokRefused) as exc:
        return Outcome(push, push.remote_id, error=str(exc))


async def push_tiktok(
    http: httpx.AsyncClient, creds: Credentials, pushes: list[Push]
) -> list[Outcome]:
    client = TikTokShopClient(http, creds.ids, creds.secrets, creds.base_url)
    return [await _send(client, push) for push in pushes]


async def sync_once(
    sessionmaker: SessionMaker,
    store_id: str,
    keys: ChannelKeys,
    http: httpx.AsyncClient | None = None,
) -> float | None:
    """One batch of the store's due products pushed to its TikTok Shop (catalog_sync.py)."""
    return await sync_network(
        sessionmaker, store_id, Network.TIKTOK_SHOP, push_tiktok, BATCH, keys, http
    )
