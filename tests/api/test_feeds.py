"""Catalog feeds (docs/channels.md): what Merchant Center and Meta read from the feed URLs, the
products they would refuse, and the token that opens the feeds."""

import csv
import io
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.conftest import StoreKeys, event, make_store

G = "{http://base.google.com/ns/1.0}"


def product(product_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "product_id": product_id,
        "title": f"Product {product_id}",
        "price": 1500,
        "currency": "USD",
        "category_ids": ["c"],
        "available": True,
        "url": f"https://shop.example.com/p/{product_id}",
        "image_url": f"https://cdn.example.com/{product_id}.jpg",
        "description": "A fine thing",
        "brand": "Acme",
        **fields,
    }


async def upsert(api: httpx.AsyncClient, store: StoreKeys, *products: dict[str, Any]) -> None:
    batch = [event("product.upserted", p) for p in products]
    response = await api.post("/v1/events", json={"events": batch}, headers=store.auth())
    assert response.status_code == 202, response.text


async def token_of(api: httpx.AsyncClient, store: StoreKeys) -> str:
    response = await api.get("/v1/feeds", headers=store.auth())
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


async def google_items(api: httpx.AsyncClient, token: str) -> dict[str, dict[str, str]]:
    response = await api.get("/v1/feeds/google.xml", params={"token": token})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "rss" and root.get("version") == "2.0"
    items = root.findall("./channel/item")
    parsed = {}
    for item in items:
        fields = {child.tag.removeprefix(G): child.text or "" for child in item}
        parsed[fields["id"]] = fields
    return parsed


async def test_google_xml_carries_the_catalog_with_escaping_and_variants(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    await upsert(
        api,
        store,
        product(
            "mug",
            title="Mugs & <Cups> «café» 日本",
            description='Tom & Jerry\'s "best" <mug>\x0b',
            gtin="00012345678905",
        ),
        product("sold-out", available=False),
        product(
            "shirt",
            price=2000,
            variants=[
                {"variant_id": "shirt-s", "price": 2000, "available": True},
                {"variant_id": "shirt-xl", "price": 2250, "available": False},
            ],
        ),
    )
    items = await google_items(api, await token_of(api, store))
    assert set(items) == {"mug", "sold-out", "shirt-s", "shirt-xl"}
    mug = items["mug"]
    assert mug["title"] == "Mugs & <Cups> «café» 日本"
    assert mug["description"] == 'Tom & Jerry\'s "best" <mug>'
    assert mug["price"] == "15.00 USD"
    assert mug["availability"] == "in_stock"
    assert mug["condition"] == "new"
    assert mug["brand"] == "Acme" and mug["gtin"] == "00012345678905"
    assert mug["link"] == "https://shop.example.com/p/mug"
    assert mug["image_link"] == "https://cdn.example.com/mug.jpg"
    assert "item_group_id" not in mug
    assert items["sold-out"]["availability"] == "out_of_stock"
    assert items["shirt-s"]["item_group_id"] == items["shirt-xl"]["item_group_id"] == "shirt"
    assert items["shirt-xl"]["price"] == "22.50 USD"
    assert items["shirt-xl"]["availability"] == "out_of_stock"
    assert items["shirt-s"]["availability"] == "in_stock"
    # A deleted product leaves the feed.
    deleted = event("product.deleted", {"product_id": "sold-out"})
    await api.post("/v1/events", json={"events": [deleted]}, headers=store.auth())
    assert "sold-out" not in await google_items(api, await token_of(api, store))


async def test_prices_use_the_currency_exponent(api: httpx.AsyncClient, store: StoreKeys) -> None:
    await upsert(
        api,
        store,
        product("usd", price=1500, currency="USD"),
        product("jpy", price=1500, currency="JPY"),
        product("kwd", price=1234, currency="KWD"),
    )
    items = await google_items(api, await token_of(api, store))
    assert {k: v["price"] for k, v in items.items()} == {
        "usd": "15.00 USD",
        "jpy": "1500 JPY",
        "kwd": "1.234 KWD",
    }


async def test_google_tsv_and_meta_csv(api: httpx.AsyncClient, store: StoreKeys) -> None:
    await upsert(
        api,
        store,
        product("tab", title="Tab\there", description='line one\nline two, "quoted"'),
        product("yen", currency="JPY", price=980, available=False),
        product(
            "hat",
            variants=[{"variant_id": "hat-red", "price": 1200, "available": True}],
        ),
    )
    token = await token_of(api, store)
    tsv = await api.get("/v1/feeds/google.tsv", params={"token": token})
    assert tsv.status_code == 200
    assert tsv.headers["content-type"].startswith("text/tab-separated-values")
    lines = tsv.text.splitlines()
    assert len(lines) == 4  # the header and one line per item: no tab or newline leaks through
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(tsv.text), delimiter="\t")}
    assert rows["tab"]["title"] == "Tab here"
    assert rows["tab"]["description"] == 'line one line two, "quoted"'
    assert rows["yen"]["price"] == "980 JPY" and rows["yen"]["availability"] == "out_of_stock"
    assert rows["hat-red"]["item_group_id"] == "hat" and rows["hat-red"]["price"] == "12.00 USD"

    meta = await api.get("/v1/feeds/meta.csv", params={"token": token})
    assert meta.status_code == 200
    assert meta.headers["content-type"].startswith("text/csv")
    reader = csv.DictReader(io.StringIO(meta.text))
    assert reader.fieldnames is not None
    assert reader.fieldnames[:9] == [
        "id",
        "title",
        "description",
        "availability",
        "condition",
        "price",
        "link",
        "image_link",
        "brand",
    ]
    by_id = {r["id"]: r for r in reader}
    assert set(by_id) == {"tab", "yen", "hat-red"}
    assert by_id["tab"]["description"] == 'line one\nline two, "quoted"'
    assert by_id["yen"]["availability"] == "out of stock"
    assert by_id["tab"]["availability"] == "in stock"
    assert by_id["tab"]["price"] == "15.00 USD" and by_id["tab"]["condition"] == "new"
    assert by_id["hat-red"]["item_group_id"] == "hat"


async def test_products_missing_an_attribute_are_left_out_and_listed(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    await upsert(
        api,
        store,
        product("ok"),
        product("no-link", url=None),
        product("no-image-no-text", image_url=None, description=None),
        product("no-brand", brand=None),
    )
    token = await token_of(api, store)
    assert set(await google_items(api, token)) == {"ok", "no-brand"}
    meta = await api.get("/v1/feeds/meta.csv", params={"token": token})
    assert {r["id"] for r in csv.DictReader(io.StringIO(meta.text))} == {"ok"}

    google = await api.get("/v1/feeds/google/errors", headers=store.auth())
    assert google.status_code == 200
    assert google.json() == {
        "items": [
            {
                "product_id": "no-image-no-text",
                "reasons": [
                    "description is missing",
                    "image_link is missing or not an http(s) URL",
                ],
            },
            {"product_id": "no-link", "reasons": ["link is missing or not an http(s) URL"]},
        ],
        "next_cursor": None,
    }
    page = await api.get("/v1/feeds/meta/errors", params={"limit": 2}, headers=store.auth())
    listed = page.json()
    assert [p["product_id"] for p in listed["items"]] == ["no-brand", "no-image-no-text"]
    assert listed["items"][0]["reasons"] == ["brand is missing (Meta needs a brand or a gtin)"]
    rest = await api.get(
        "/v1/feeds/meta/errors",
        params={"limit": 2, "cursor": listed["next_cursor"]},
        headers=store.auth(),
    )
    assert [p["product_id"] for p in rest.json()["items"]] == ["no-link"]
    bad = await api.get("/v1/feeds/meta/errors", params={"cursor": "%%%"}, headers=store.auth())
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_cursor"


async def test_the_token_shows_urls_and_rotation_refuses_the_old_one(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    await upsert(api, store, product("p1"))
    shown = (await api.get("/v1/feeds", headers=store.auth())).json()
    token = shown["token"]
    assert (await api.get("/v1/feeds", headers=store.auth())).json() == shown  # stable
    url = urlsplit(shown["urls"]["google_xml"])
    assert url.path == "/v1/feeds/google.xml" and parse_qs(url.query)["token"] == [token]
    assert shown["urls"]["meta_csv"].endswith(f"/v1/feeds/meta.csv?token={token}")
    assert (await api.get("/v1/feeds/meta.csv", params={"token": token})).status_code == 200

    rotated = await api.post("/v1/feeds/rotate-token", headers=store.auth())
    assert rotated.status_code == 200
    new = rotated.json()["token"]
    assert new != token
    assert (await api.get("/v1/feeds", headers=store.auth())).json()["token"] == new
    old = await api.get("/v1/feeds/google.xml", params={"token": token})
    assert old.status_code == 404 and old.json()["error"]["code"] == "not_found"
    assert (await api.get("/v1/feeds/google.xml", params={"token": new})).status_code == 200
    missing = await api.get("/v1/feeds/google.tsv")
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "unauthorized"
    # A publishable key may not read the token.
    assert (await api.get("/v1/feeds", headers=store.auth("publishable"))).status_code == 403


async def test_etag_gives_304_until_the_catalog_changes(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    await upsert(api, store, product("p1"))
    token = await token_of(api, store)
    first = await api.get("/v1/feeds/google.xml", params={"token": token})
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = await api.get(
        "/v1/feeds/google.xml", params={"token": token}, headers={"If-None-Match": etag}
    )
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    # Another format has its own tag.
    tsv = await api.get(
        "/v1/feeds/google.tsv", params={"token": token}, headers={"If-None-Match": etag}
    )
    assert tsv.status_code == 200
    await upsert(api, store, product("p1", title="Renamed"))
    changed = await api.get(
        "/v1/feeds/google.xml", params={"token": token}, headers={"If-None-Match": etag}
    )
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert b"Renamed" in changed.content


async def test_a_token_opens_its_own_stores_feed_only(
    api: httpx.AsyncClient, store: StoreKeys
) -> None:
    other = await make_store(api, "Other")
    await upsert(api, store, product("mine"))
    await upsert(api, other, product("theirs"))
    assert set(await google_items(api, await token_of(api, store))) == {"mine"}
    assert set(await google_items(api, await token_of(api, other))) == {"theirs"}
    errors = await api.get("/v1/feeds/google/errors", headers=other.auth())
    assert errors.json()["items"] == []
