"""URLs the engine stores and later hands to storefronts and messages: only absolute http(s)
links. A `javascript:` or `data:` URL served as a product link would run in the shopper's page."""

import ipaddress
import re
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048
# Whitespace (str.isspace's, Unicode's) and control characters: one scan in C, not per character.
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f]")


def is_web_url(value: str) -> bool:
    """An absolute http:// or https:// URL with a host, no spaces or control characters."""
    if len(value) > MAX_URL_LENGTH or _SPACE_OR_CONTROL.search(value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def check_web_url(value: str) -> str:
    """A pydantic validator: a 422 on the field for anything else."""
    if not is_web_url(value):
        raise ValueError("must be an absolute http:// or https:// URL")
    return value


def web_url_or_none(value: str | None) -> str | None:
    """What may be shown of a stored URL: rows saved before the check came in are hidden."""
    return value if value is not None and is_web_url(value) else None


# Where a webhook may be delivered in production: a public address only. `is_global` alone is
# not enough on every Python 3.11 patch release, so the ranges that must never be reached are
# also listed (RFC 6890 and its updates).
_NOT_PUBLIC = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata (169.254.169.254)
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and the broadcast address
        "::/128",
        "::1/128",
        "::/96",  # IPv4-compatible (deprecated)
        "64:ff9b:1::/48",
        "100::/64",  # discard
        "2001::/23",  # IETF protocol assignments (Teredo among them)
        "2001:db8::/32",  # documentation
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::`,
    6to4 `2002::`): it is where a packet ends up, so it is what must be public."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in ipaddress.ip_network("64:ff9b::/96"):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def is_public_address(address: IPAddress) -> bool:
    """Reachable on the public internet: not loopback, private, link-local, multicast,
    reserved, unspecified or shared, in IPv4 or IPv6 (an IPv4 inside IPv6 judged as itself)."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            return is_public_address(inner)
    if any(address in network for network in _NOT_PUBLIC if network.version == address.version):
        return False
    return address.is_global and not (
        address.is_multicast or address.is_reserved or address.is_unspecified
    )


def literal_address(host: str) -> IPAddress | None:
    """The address a URL's host names literally (`203.0.113.9`, `[2001:db8::1]`), if it does."""
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def check_webhook_url(value: str, *, local_allowed: bool) -> str:
    """Where the engine may POST a store's webhooks. In production: `https` to a host that is
    not a local name nor a non-public address; names are resolved and checked again at every
    delivery (services.growth.webhook_delivery). In development and tests local http is fine."""
    check_web_url(value)
    if local_allowed:
        return value
    parts = urlsplit(value)
    host = (parts.hostname or "").rstrip(".").lower()
    if parts.scheme.lower() != "https":
        raise ValueError("must be an https:// URL")
    if parts.username or parts.password:
        raise ValueError("must not carry a user name or password")
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise ValueError("must be a public host, not a local name")
    address = literal_address(host)
    if address is not None and not is_public_address(address):
        raise ValueError("must be a public address (not loopback, private, link-local or reserved)")
    return value
