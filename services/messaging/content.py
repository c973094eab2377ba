"""What a flow message says: the template scope (customer, cart or product, promo code) and a
link that carries UTM parameters, the message id and the code, for attribution."""

from typing import Any
from urllib.parse import urlencode

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Cart, Customer, Order, Product
from services.urls import web_url_or_none

_PRODUCTS = select(Product).where(
    Product.store_id == bindparam("store_id"),
    Product.product_id.in_(bindparam("product_ids", expanding=True)),
)


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


def _product_view(product: Product, storefront: str) -> dict[str, Any]:
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
    customer: Customer,
    cart_id: str | None,
    cart: Cart | None,
    product_id: str | None,
    order_id: str | None,
    storefront_url: str,
    message_id: str,
    promo_code: str | None,
    utm_source: str = "shopstar",
) -> dict[str, Any]:
    """Everything a template may use, from the rows given (the gate's) and the catalog. Only
    what can still be bought is shown."""
    storefront = storefront_url.rstrip("/")
    target = storefront
    cart_view: dict[str, Any] | None = None
    product_view: dict[str, Any] | None = None
    if cart_id is not None:
        target = f"{storefront}/cart/{cart_id}"
        if cart is not None:
            cart_view = await _cart_view(session, store_id, cart)
    if product_id is not None:
        product = await session.get(Product, (store_id, product_id))
        if product is not None:
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


async def _cart_view(session: AsyncSession, store_id: str, cart: Cart) -> dict[str, Any]:
    ids = [i["product_id"] for i in cart.items]
    products = {
        p.product_id: p
        for p in await session.scalars(_PRODUCTS, {"store_id": store_id, "product_ids": ids})
    }
    items = []
    for item in cart.items:
        product = products.get(item["product_id"])
        if product is not None and (not product.available or product.deleted_at is not None):
            continue
        items.append({**item, "title": product.title if product else item["product_id"]})
    return {"items": items, "subtotal": cart.subtotal, "currency": cart.currency}
