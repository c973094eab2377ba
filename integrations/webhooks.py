"""POST one outbound webhook. The host is resolved here, the caller judges every address it
resolves to, and the connection goes to an address it accepted, with the name kept for the Host
header and for TLS (SNI and the certificate check): DNS cannot answer one address to the check
and another to the connection (rebinding). No redirect is followed; no proxy from the
environment is used (it would connect elsewhere)."""

import asyncio
import ipaddress
import socket
from collections.abc import Callable, Mapping

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
USER_AGENT = "ShopSTAR-Webhooks/1.0"


class AddressRefused(Exception):
    """The host resolves to an address deliveries may not go to."""


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (the literal itself for an IP), in the resolver's order."""
    literal = _literal(host)
    if literal is not None:
        return [literal]
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: dict[IPAddress, None] = {}
    for info in infos:
        found[ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])] = None
    return list(found)


async def post_webhook(
    url: str,
    body: str,
    headers: Mapping[str, str],
    *,
    address_allowed: Callable[[IPAddress], bool],
    timeout_seconds: float,
) -> int:
    """The receiver's status code; raises AddressRefused, or httpx.HTTPError on the way."""
    target = httpx.URL(url)
    port = target.port or (443 if target.scheme == "https" else 80)
    addresses = await asyncio.wait_for(resolve(target.host, port), timeout_seconds)
    refused = [a for a in addresses if not address_allowed(a)]
    if refused or not addresses:
        raise AddressRefused(f"{target.host} resolves to an address webhooks may not reach")
    pinned = target.copy_with(host=str(addresses[0]))
    host_header = target.host if target.port is None else f"{target.host}:{target.port}"
    if ":" in target.host:  # an IPv6 literal
        host_header = f"[{target.host}]" + ("" if target.port is None else f":{target.port}")
    extensions = {} if _literal(target.host) else {"sni_hostname": target.host}
    async with (
        httpx.AsyncClient(
            timeout=timeout_seconds, follow_redirects=False, trust_env=False
        ) as client,
        client.stream(
            "POST",
            pinned,
            content=body.encode(),
            headers={
                **headers,
                "Host": host_header,
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
            },
            extensions=extensions,
        ) as response,
    ):
        return response.status_code  # the body is not read: only the status counts
