"""What a flow message says: the template scope (customer, cart or product, promo code) and a
link that carries UTM parameters, the message id and the code, for attribution."""

from collections.abc import Collection, Mapping
from typing import Any, NamedTuple
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from models import Order
from models.database import SessionStatements, Statements
from services.messaging.step_facts import StepCart, StepCustomer
from services.urls import web_url_or_none


class CatalogProduct(NamedTuple):
    """What a step needs of a product: whether it can still be bought (the gate) and what the
    message shows of it."""

    product_id: str
    title: str
    price: int
    currency: str
    url: str | None
    image_url: str | None
    buyable: bool  # available and not deleted


# Read once a step, by the gate, and shown by the message: one statement of constant text.
_CATALOG = """
    SELECT product_id, title, price, currency, url, image_url,
           available AND deleted_at IS NULL
    FROM products WHERE store_id = %(store_id)s AND product_id = ANY(%(product_ids)s::text[])
"""


async def read_products(
    db: Statements, store_id: str, product_ids: Collection[str]
) -> dict[str, CatalogProduct]:
    """The catalog mirror's rows of these products (one it has not heard of is absent)."""
    if not product_ids:
        return {}
    params = {"store_id": store_id, "product_ids": list(product_ids)}
    return {row[0]: CatalogProduct(*row) for row in await db.all(_CATALOG, params)}


def step_products(cart: StepCart | None, product_id: str | None) -> set[str]:
    """The products a step is about: the viewed one, else the cart's (a step without a cart
    has none: its facts read no cart)."""
    if product_id is not None:
        return {product_id}
    return {item["product_id"] for item in cart.items} if cart else set()


def tracked_link(
    url: str,
    *,
    channel: str,
    flow: str,
    message_id: str,
    promo_code: str | None,
    utm_source: str = "shopstar",
) -> str:
    params = {
        "utm_source": utm_source,
        "utm_medium": channel,
        "utm_campaign": flow,
        "utm_content": message_id,
    }
    if promo_code:
        params["code"] = promo_code
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def _product_view(product: CatalogProduct, storefront: str) -> dict[str, Any]:
    return {
        "id": product.product_id,
        "title": product.title,
        "price": product.price,
        "currency": product.currency,
        # Rows stored before URLs were checked may hold a `javascript:` link: never sent.
        "url": web_url_or_none(product.url) or f"{storefront}/products/{product.product_id}",
        "image_url": web_url_or_none(product.image_url),
    }


async def message_scope(
    session: AsyncSession,
    *,
    store_id: str,
    flow: str,
    channel: str,
    customer: StepCustomer,
    cart_id: str | None,
    cart: StepCart | None,
    product_id: str | None,
    products: Mapping[str, CatalogProduct] | None,
    order_id: str | None,
    storefront_url: str,
    message_id: str,
    promo_code: str | None,
    utm_source: str = "shopstar",
) -> dict[str, Any]:
    """Everything a template may use, from the rows given (the gate's) and the catalog
    (`products`, as the gate read them; read here when not given). Only what can still be
    bought is shown."""
    storefront = storefront_url.rstrip("/")
    target = storefront
    cart_view: dict[str, Any] | None = None
    product_view: dict[str, Any] | None = None
    if products is None:
        wanted = step_products(cart, product_id)
        products = await read_products(SessionStatements(session), store_id, wanted)
    if cart_id is not None:
        target = f"{storefront}/cart/{cart_id}"
        if cart is not None:
            cart_view = _cart_view(cart, products)
    if product_id is not None and (product := products.get(product_id)) is not None:
        product_view = _product_view(product, storefront)
        target = product_view["url"]
    order = await session.get(Order, (store_id, order_id)) if order_id else None
    return {
        "customer": {"first_name": customer.first_name, "locale": customer.locale},
        "cart": cart_view,
        "product": product_view,
        "order": {"id": order.order_id, "total": order.total, "currency": order.currency}
        if order
        else None,
        "promo_code": promo_code,
        "link": tracked_link(
            target,
            channel=channel,
            flow=flow,
            message_id=message_id,
            promo_code=promo_code,
            utm_source=utm_source,
        ),
    }


def _cart_view(cart: StepCart, products: Mapping[str, CatalogProduct]) -> dict[str, Any]:
    items = []
    for item in cart.items:
        product = products.get(item["product_id"])
        if product is not None and not product.buyable:
            continue
        items.append({**item, "title": product.title if product else item["product_id"]})
    return {"items": items, "subtotal": cart.subtotal, "currency": cart.currency}
