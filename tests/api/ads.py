"""Bodies and calls shared by the ad tests."""

from typing import Any

import httpx

from services.ads.serving import assign_variant
from tests.conftest import StoreKeys


def creative(title: str = "Summer sale") -> dict[str, Any]:
    return {
        "title": title,
        "body": "Up to 30% off tents",
        "image_url": "https://cdn.example.com/hero.png",
        "link_url": "https://shop.example.com/sale",
        "cta": "Shop now",
    }


def campaign(**fields: Any) -> dict[str, Any]:
    return {
        "name": "Summer",
        "placements": ["homepage_hero"],
        "priority": 10,
        "variants": [
            {"key": "A", "weight": 1, "creative": creative("A")},
            {"key": "B", "weight": 1, "creative": creative("B")},
        ],
        **fields,
    }


async def create(api: httpx.AsyncClient, store: StoreKeys, **fields: Any) -> dict[str, Any]:
    response = await api.post("/v1/ad-campaigns", json=campaign(**fields), headers=store.auth())
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def ask(
    api: httpx.AsyncClient,
    store: StoreKeys,
    visitor_id: str,
    placement: str = "homepage_hero",
    **fields: Any,
) -> httpx.Response:
    body = {"placement": placement, "visitor_id": visitor_id, "device_type": "mobile", **fields}
    return await api.post("/v1/storefront/ads", json=body, headers=store.auth("publishable"))


async def report(api: httpx.AsyncClient, store: StoreKeys, token: str, kind: str) -> httpx.Response:
    body = {"impression_token": token, "type": kind}
    return await api.post("/v1/storefront/ad-events", json=body, headers=store.auth("publishable"))


def visitor_in(campaign: dict[str, Any], key: str, prefix: str = "v") -> str:
    """A visitor id the campaign's bucketing puts in variant `key`."""
    return next(
        f"{prefix}{n}"
        for n in range(10_000)
        if assign_variant(campaign["id"], f"{prefix}{n}", campaign["variants"]) == key
    )
