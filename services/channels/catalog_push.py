"""The catalog sync's Merchant Center and Meta pushers (the mechanism is
services/channels/catalog_sync.py), with the feeds' field mapping (feed_formats.py): a product
is an item, each variant an item of the product's group at its own price; a product the feed
would leave out for a missing attribute is not pushed either (its items already there are
removed) and the feed's reasons are recorded for it.

- Merchant Center: one product input per item (`productInputs:insert`, the API's shape), a few
  at a time; a deleted product's (or a dropped variant's) input is deleted.
- Meta: every item of the batch in `items_batch` calls of at most 5,000 requests (`UPDATE` with
  `allow_upsert`, `DELETE`), each polled with `check_batch_request_status` until finished; an
  item Meta refused keeps its product dirty with Meta's message, the others are done."""

import asyncio
import dataclasses
from collections.abc import Iterator
from typing import Any

import httpx

from integrations.ad_networks import NetworkUnavailable, google_access_token
from integrations.merchant_products import MerchantProducts, MerchantRefused
from integrations.meta_catalog import MAX_REQUESTS, MetaCatalog, MetaRefused
from models.database import SessionMaker
from services.channels import feed_formats as fmt
from services.channels import tiktok_catalog
from services.channels.catalog_sync import Outcome, Push, Pusher, sync_network
from services.channels.connections import ChannelKeys, Credentials, Network
from services.checkout.pricing.money import currency_exponent

MERCHANT_BATCH = 200
MERCHANT_CONCURRENCY = 8
META_BATCH = 1000
META_POLL_SECONDS = 1.0
META_POLLS = 30
DEFAULT_LANGUAGE = "en"
DEFAULT_FEED_LABEL = "US"
CHANNEL = "ONLINE"


def _rows(push: Push) -> list[fmt.ProductRow]:
    """The product as the feeds see it, once per variant (or once without variants)."""
    p = push.product
    assert p is not None
    row = fmt.ProductRow(
        p.product_id,
        p.title,
        p.description,
        p.url,
        p.image_url,
        p.brand,
        p.gtin,
        p.price,
        p.currency,
        p.available,
    )
    if not push.variants:
        return [row]
    return [
        dataclasses.replace(
            row, variant_id=v.variant_id, variant_price=v.price, variant_available=v.available
        )
        for v in push.variants
    ]


def amount_micros(amount: int, currency: str) -> int:
    """Minor units to micros: 1500 USD cents are 15,000,000 micros; 1500 JPY 1,500,000,000."""
    return amount * int(10 ** (6 - currency_exponent(currency)))


def merchant_input(row: fmt.ProductRow, language: str, feed_label: str) -> dict[str, Any]:
    item = fmt.item_of(row, "google")
    price = row.variant_price if row.variant_id and row.variant_price is not None else row.price
    attributes: dict[str, Any] = {
        "title": item.title,
        "description": item.description,
        "link": item.link,
        "imageLink": item.image_link,
        "availability": "in_stock" if item.availability else "out_of_stock",
        "price": {
            "amountMicros": str(amount_micros(price, row.currency)),
            "currencyCode": row.currency,
        },
        "condition": "new",
    }
    if item.brand:
        attributes["brand"] = item.brand
    if item.gtin:
        attributes["gtin"] = [item.gtin]
    if item.item_group_id:
        attributes["itemGroupId"] = item.item_group_id
    return {
        "offerId": item.id,
        "contentLanguage": language,
        "feedLabel": feed_label,
        "channel": CHANNEL,
        "attributes": attributes,
    }


async def push_merchant(
    http: httpx.AsyncClient, creds: Credentials, pushes: list[Push]
) -> list[Outcome]:
    token = await google_access_token(http, creds.secrets, creds.base_url)
    merchant_id = creds.ids["merchant_id"]
    language = creds.ids.get("content_language") or DEFAULT_LANGUAGE
    label = creds.ids.get("feed_label") or DEFAULT_FEED_LABEL
    data_source = f"accounts/{merchant_id}/dataSources/{creds.ids['data_source_id']}"
    client = MerchantProducts(http, token, merchant_id, data_source, creds.base_url)
    limit = asyncio.Semaphore(MERCHANT_CONCURRENCY)

    async def remove(offers: list[str]) -> None:
        for offer in offers:
            await client.delete(CHANNEL.lower(), language, label, offer)

    async def one(push: Push) -> Outcome:
        async with limit:
            try:
                if push.product is None:
                    await remove(push.pushed_items)
                    return Outcome(push, items=[])
                rows = _rows(push)
                reasons = fmt.problems(rows[0], "google")
                if reasons:
                    await remove(push.pushed_items)
                    return Outcome(push, items=[], error="; ".join(reasons), retry=False)
                inputs = [merchant_input(r, language, label) for r in rows]
                for product_input in inputs:
                    await client.insert(product_input)
                offers = [i["offerId"] for i in inputs]
                await remove([o for o in push.pushed_items if o not in offers])
                return Outcome(push, items=offers)
            except (NetworkUnavailable, MerchantRefused) as exc:
                return Outcome(push, error=str(exc))

    results = await asyncio.gather(*(one(p) for p in pushes), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result  # a refused token: every product waits, the connection shows why
    return [r for r in results if isinstance(r, Outcome)]


def meta_item(row: fmt.ProductRow) -> dict[str, str]:
    item = fmt.item_of(row, "meta")
    data = {
        "id": item.id,
        "title": item.title,
        "description": item.description,
        "availability": "in stock" if item.availability else "out of stock",
        "condition": "new",
        "price": item.price,
        "link": item.link,
        "image_link": item.image_link,
        "brand": item.brand,
        "gtin": item.gtin,
        "item_group_id": item.item_group_id,
    }
    return {k: v for k, v in data.items() if v}


def _chunks(
    requests: list[tuple[dict[str, Any], str]],
) -> Iterator[list[tuple[dict[str, Any], str]]]:
    for start in range(0, len(requests), MAX_REQUESTS):
        yield requests[start : start + MAX_REQUESTS]


async def _finished(catalog: MetaCatalog, handle: str) -> dict[str, Any]:
    for _ in range(META_POLLS):
        status = await catalog.batch_status(handle)
        if status.get("status") == "finished":
            return status
        await asyncio.sleep(META_POLL_SECONDS)
    raise NetworkUnavailable("Meta is still processing the batch: it is sent again later")


async def push_meta(
    http: httpx.AsyncClient, creds: Credentials, pushes: list[Push]
) -> list[Outcome]:
    catalog = MetaCatalog(
        http, creds.secrets["access_token"], creds.ids["catalog_id"], creds.base_url
    )
    requests: list[tuple[dict[str, Any], str]] = []  # (request, product id)
    planned: dict[str, tuple[list[str], str | None]] = {}  # product id: (items, skip reason)
    for push in pushes:
        items: list[str] = []
        reason: str | None = None
        if push.product is not None:
            rows = _rows(push)
            reasons = fmt.problems(rows[0], "meta")
            if reasons:
                reason = "; ".join(reasons)
            else:
                for row in rows:
                    data = meta_item(row)
                    items.append(data["id"])
                    requests.append(({"method": "UPDATE", "data": data}, push.product_id))
        for gone in push.pushed_items:
            if gone not in items:
                requests.append(({"method": "DELETE", "data": {"id": gone}}, push.product_id))
        planned[push.product_id] = (items, reason)
    errors: dict[str, str] = {}
    for chunk in _chunks(requests):
        owner = {str(r["data"]["id"]): pid for r, pid in chunk}
        try:
            for handle in await catalog.items_batch([r for r, _ in chunk]):
                status = await _finished(catalog, handle)
                for error in status.get("errors") or []:
                    pid = owner.get(str(error.get("id"))) if isinstance(error, dict) else None
                    if pid is not None:
                        message = str(error.get("message") or "refused")[:300]
                        errors.setdefault(pid, f"Meta refused item {error.get('id')}: {message}")
        except (NetworkUnavailable, MetaRefused) as exc:
            for _, pid in chunk:
                errors.setdefault(pid, str(exc))
    outcomes = []
    for push in pushes:
        items, reason = planned[push.product_id]
        if push.product_id in errors:
            outcomes.append(Outcome(push, error=errors[push.product_id]))
        else:
            outcomes.append(Outcome(push, items=items, error=reason, retry=reason is None))
    return outcomes


PUSHERS: dict[Network, tuple[Pusher, int]] = {
    Network.TIKTOK_SHOP: (tiktok_catalog.push_tiktok, tiktok_catalog.BATCH),
    Network.MERCHANT_CENTER: (push_merchant, MERCHANT_BATCH),
    Network.META: (push_meta, META_BATCH),
}


async def sync_once(
    sessionmaker: SessionMaker,
    store_id: str,
    network: Network,
    keys: ChannelKeys,
    http: httpx.AsyncClient | None = None,
) -> float | None:
    """One batch of the store's due products pushed to the network (catalog_sync.py)."""
    pusher, batch = PUSHERS[network]
    return await sync_network(sessionmaker, store_id, network, pusher, batch, keys, http)
