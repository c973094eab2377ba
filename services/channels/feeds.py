"""A store's catalog feeds, read from the catalog mirror (`product.upserted` projections): their
ETag, their text streamed batch by batch over a server-side cursor (a feed of 50,000 products is
never held in memory), and the products a network would refuse, with the reasons."""

import base64
import binascii
import dataclasses
import hashlib
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ARRAY, Text, any_, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Product, ProductVariant, Store
from models.database import SessionMaker
from services.channels import feed_formats as fmt
from services.channels.feed_formats import FeedFormat, Item, Network, ProductRow
from services.channels.feed_tokens import FeedAccess
from services.errors import invalid_field
from services.stores.settings import StoreDefaults, effective_settings

BATCH = 1000  # rows per fetch of the cursor, and per chunk of the response
MAX_CURSOR_LENGTH = 1000

_ROW = (
    Product.product_id,
    Product.title,
    Product.description,
    Product.url,
    Product.image_url,
    Product.brand,
    Product.gtin,
    Product.price,
    Product.currency,
    Product.available,
)
_LIVE = (Product.deleted_at.is_(None),)


@dataclass(frozen=True)
class PreparedFeed:
    etag: str  # strong, quoted
    head: str
    tail: str
    render: Callable[[Iterable[Item]], str]
    network: Network


# The live products in id order: a range of the primary key, read by a server-side cursor.
_CATALOG = (
    select(*_ROW)
    .where(Product.store_id == bindparam("store_id"), *_LIVE)
    .order_by(Product.product_id)
    .execution_options(yield_per=BATCH)
)
# The variants of one batch of products, by the primary key too. (A join in the cursor's query
# invites a fast-start nested loop, as PostgreSQL plans cursors for their first rows.)
_VARIANTS = (
    select(
        ProductVariant.product_id,
        ProductVariant.variant_id,
        ProductVariant.price,
        ProductVariant.available,
    )
    .where(
        ProductVariant.store_id == bindparam("store_id"),
        ProductVariant.product_id == any_(bindparam("ids", type_=ARRAY(Text))),
    )
    .order_by(ProductVariant.product_id, ProductVariant.variant_id)
)


async def prepare_feed(
    session: AsyncSession, access: FeedAccess, feed: FeedFormat, defaults: StoreDefaults
) -> PreparedFeed:
    """What is known before the first product is read: the head of the feed and its ETag, a
    digest of everything the feed's text depends on. Every change of a product moves its
    `updated_at` forward (a deletion too), and a variant changes only with its product."""
    store = await session.get(Store, access.store_id)
    assert store is not None  # the token's row goes with its store
    link = effective_settings(store, defaults).storefront_base_url
    products, latest = (
        await session.execute(
            select(func.count(), func.max(Product.updated_at)).where(
                Product.store_id == access.store_id
            )
        )
    ).one()
    variants = await session.scalar(
        select(func.count()).where(ProductVariant.store_id == access.store_id)
    )
    state = f"{feed}|{access.version}|{products}|{latest}|{variants}|{store.name}|{link}"
    etag = '"' + hashlib.sha256(state.encode()).hexdigest()[:32] + '"'
    network = fmt.NETWORK_OF[feed]
    if feed == "google_xml":
        return PreparedFeed(
            etag, fmt.xml_head(store.name, link), fmt.XML_TAIL, fmt.xml_items, network
        )
    if feed == "google_tsv":
        return PreparedFeed(etag, fmt.tsv_head(), "", fmt.tsv_items, network)
    return PreparedFeed(etag, fmt.csv_head(), "", fmt.csv_items, network)


def matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match: `*`, or any of the listed tags (weak comparison, as GET uses)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return etag in tags


async def stream_feed(
    sessionmaker: SessionMaker, store_id: str, feed: PreparedFeed
) -> AsyncIterator[bytes]:
    """The feed's bytes, one batch of products at a time, on a connection of its own: the
    request's transaction has ended by the time the response body is sent."""
    yield feed.head.encode()
    async with sessionmaker() as session:
        result = await session.stream(_CATALOG, {"store_id": store_id})
        async for batch in result.partitions():
            products = [ProductRow(*r) for r in batch]
            params = {"store_id": store_id, "ids": [p.product_id for p in products]}
            variants: dict[str, list[Any]] = {}
            for v in await session.execute(_VARIANTS, params):
                variants.setdefault(v.product_id, []).append(v)
            items = [
                fmt.item_of(row, feed.network)
                for product in products
                if not fmt.problems(product, feed.network)
                for row in _with_variants(product, variants.get(product.product_id))
            ]
            if items:
                yield feed.render(items).encode()
    if feed.tail:
        yield feed.tail.encode()


def _with_variants(product: ProductRow, variants: list[Any] | None) -> list[ProductRow]:
    """The product itself, or one row per variant of it."""
    if not variants:
        return [product]
    return [
        dataclasses.replace(
            product, variant_id=v.variant_id, variant_price=v.price, variant_available=v.available
        )
        for v in variants
    ]


@dataclass(frozen=True)
class FeedProblem:
    product_id: str
    reasons: list[str]


def _encode(product_id: str) -> str:
    return base64.urlsafe_b64encode(product_id.encode()).decode().rstrip("=")


def _decode(cursor: str) -> str:
    invalid = invalid_field("cursor", "not a cursor from this list: start again without one")
    invalid.code = "invalid_cursor"
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise invalid
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        product_id = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (binascii.Error, ValueError) as exc:
        raise invalid from exc
    if not product_id or "\x00" in product_id:  # PostgreSQL text cannot hold a NUL
        raise invalid
    return product_id


async def feed_problems(
    session: AsyncSession, store_id: str, network: Network, limit: int, cursor: str | None
) -> tuple[list[FeedProblem], str | None]:
    """The live products the network would refuse, by product id, with every reason. The rules
    are the feed's own (feed_formats.problems), so the list and the feed never disagree; the
    catalog is read in batches until a page is full."""
    after = _decode(cursor) if cursor is not None else None
    found: list[FeedProblem] = []
    while len(found) <= limit:
        query = select(*_ROW).where(Product.store_id == store_id, *_LIVE)
        if after is not None:
            query = query.where(Product.product_id > after)
        batch = (await session.execute(query.order_by(Product.product_id).limit(BATCH))).all()
        for r in batch:
            reasons = fmt.problems(ProductRow(*r), network)
            if reasons:
                found.append(FeedProblem(r.product_id, reasons))
        if len(batch) < BATCH:
            break
        after = batch[-1].product_id
    if len(found) <= limit:
        return found, None
    page = found[:limit]
    return page, _encode(page[-1].product_id)
