"""The feed formats, as pure functions of a product row: which products a network accepts (and
why not), and the text of Merchant Center's RSS 2.0 (`g:` namespace) and TSV and of Meta's
catalog CSV. Each renders a batch of items at a time, so a feed is written as it is read."""

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal
from xml.sax.saxutils import escape

from services.checkout.pricing import format_amount
from services.urls import is_web_url

Network = Literal["google", "meta"]
FeedFormat = Literal["google_xml", "google_tsv", "meta_csv"]
NETWORK_OF: dict[FeedFormat, Network] = {
    "google_xml": "google",
    "google_tsv": "google",
    "meta_csv": "meta",
}
G_NAMESPACE = "http://base.google.com/ns/1.0"
# The networks' length limits: a longer text is cut, not refused.
TITLE_MAX: dict[Network, int] = {"google": 150, "meta": 200}
DESCRIPTION_MAX: dict[Network, int] = {"google": 5000, "meta": 9999}
# What XML 1.0 cannot carry at all (escaping does not help): C0 controls but tab and newlines.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_LINE_BREAKS = re.compile(r"[\t\r\n]+")


@dataclass(frozen=True)
class ProductRow:
    """A product of the catalog mirror, with one of its variants (or none)."""

    product_id: str
    title: str
    description: str | None
    url: str | None
    image_url: str | None
    brand: str | None
    gtin: str | None
    price: int
    currency: str
    available: bool
    variant_id: str | None = None
    variant_price: int | None = None
    variant_available: bool | None = None


@dataclass(frozen=True)
class Item:
    id: str
    title: str
    description: str
    link: str
    image_link: str
    availability: bool
    price: str
    brand: str
    gtin: str
    item_group_id: str


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def problems(row: ProductRow, network: Network) -> list[str]:
    """Why the network would refuse the product (every reason); [] if it takes it."""
    reasons = []
    if _blank(row.title):
        reasons.append("title is missing")
    if _blank(row.description):
        reasons.append("description is missing")
    if row.url is None or not is_web_url(row.url):
        reasons.append("link is missing or not an http(s) URL")
    if row.image_url is None or not is_web_url(row.image_url):
        reasons.append("image_link is missing or not an http(s) URL")
    if network == "meta" and _blank(row.brand) and _blank(row.gtin):
        reasons.append("brand is missing (Meta needs a brand or a gtin)")
    return reasons


def price_text(amount: int, currency: str) -> str:
    """`15.00 USD`: major units in the currency's exponent (`1500 JPY`, `1.234 KWD`)."""
    return f"{format_amount(amount, currency)} {currency}"


def _text(value: str | None, limit: int | None = None) -> str:
    cleaned = _NOT_XML.sub("", value or "").strip()
    return cleaned[:limit] if limit else cleaned


def item_of(row: ProductRow, network: Network) -> Item:
    """A product as an item; a variant as an item of the product's group, at its own price."""
    variant = row.variant_id is not None
    price = row.variant_price if variant and row.variant_price is not None else row.price
    return Item(
        id=row.variant_id if variant and row.variant_id else row.product_id,
        title=_text(row.title, TITLE_MAX[network]),
        description=_text(row.description, DESCRIPTION_MAX[network]),
        link=_text(row.url),
        image_link=_text(row.image_url),
        availability=row.available and (row.variant_available is not False),
        price=price_text(price, row.currency),
        brand=_text(row.brand),
        gtin=_text(row.gtin),
        item_group_id=row.product_id if variant else "",
    )


# --- Merchant Center RSS 2.0 ---------------------------------------------------------------


def xml_head(title: str, link: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<rss version="2.0" xmlns:g="{G_NAMESPACE}">\n<channel>\n'
        f"<title>{escape(_text(title))}</title>\n<link>{escape(_text(link))}</link>\n"
        f"<description>{escape(_text(title))} products</description>\n"
    )


XML_TAIL = "</channel>\n</rss>\n"


def xml_items(items: Iterable[Item]) -> str:
    out = []
    for item in items:
        fields = [
            ("id", item.id),
            ("title", item.title),
            ("description", item.description),
            ("link", item.link),
            ("image_link", item.image_link),
            ("availability", "in_stock" if item.availability else "out_of_stock"),
            ("price", item.price),
            ("condition", "new"),
            ("brand", item.brand),
            ("gtin", item.gtin),
            ("item_group_id", item.item_group_id),
        ]
        # The values are cleaned already (item_of): only escaping is left.
        body = "".join(f"<g:{n}>{escape(v)}</g:{n}>" for n, v in fields if v)
        out.append(f"<item>{body}</item>\n")
    return "".join(out)


# --- Merchant Center TSV and Meta CSV -------------------------------------------------------

GOOGLE_TSV_COLUMNS = (
    "id",
    "title",
    "description",
    "link",
    "image_link",
    "availability",
    "price",
    "condition",
    "brand",
    "gtin",
    "item_group_id",
)
META_CSV_COLUMNS = (
    "id",
    "title",
    "description",
    "availability",
    "condition",
    "price",
    "link",
    "image_link",
    "brand",
    "gtin",
    "item_group_id",
)


def _one_line(value: str) -> str:
    # Merchant Center's TSV has no quoting: a tab or a line break would split the row.
    return _LINE_BREAKS.sub(" ", value)


def _rows(items: Iterable[Item], columns: tuple[str, ...], network: Network) -> Iterator[list[str]]:
    for item in items:
        values = {
            "id": item.id,
            "title": item.title,
            "description": item.description,
            "link": item.link,
            "image_link": item.image_link,
            "availability": (
                ("in_stock" if item.availability else "out_of_stock")
                if network == "google"
                else ("in stock" if item.availability else "out of stock")
            ),
            "price": item.price,
            "condition": "new",
            "brand": item.brand,
            "gtin": item.gtin,
            "item_group_id": item.item_group_id,
        }
        yield [values[c] for c in columns]


def tsv_head() -> str:
    return "\t".join(GOOGLE_TSV_COLUMNS) + "\n"


def tsv_items(items: Iterable[Item]) -> str:
    rows = _rows(items, GOOGLE_TSV_COLUMNS, "google")
    return "".join("\t".join(_one_line(v) for v in row) + "\n" for row in rows)


def csv_head() -> str:
    return csv_lines([list(META_CSV_COLUMNS)])


def csv_items(items: Iterable[Item]) -> str:
    return csv_lines(_rows(items, META_CSV_COLUMNS, "meta"))


def csv_lines(rows: Iterable[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()
