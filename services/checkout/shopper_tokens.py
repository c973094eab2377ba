"""Shopper tokens: how a storefront, which holds only a publishable key, shows the engine who the
shopper is. The platform's backend (secret key) asks for one per signed-in shopper; the token is
an HMAC-SHA256 over (store id, customer id, expiry) under a server secret, so it cannot be made,
changed, used for another store or used after it expires.

Form: `<base64url JSON [customer_id, expires_unix]>.<base64url MAC>`. The store id is not in the
token: it comes from the key the token is presented with, and is part of what the MAC covers."""

import base64
import binascii
import hashlib
import hmac
import json
from datetime import datetime, timedelta

from services.errors import InvalidInput

DEFAULT_TTL_SECONDS = 900
MIN_TTL_SECONDS = 60
MAX_TTL_SECONDS = 3600
# A token carries a customer id of at most 200 characters: anything much longer is not one.
MAX_TOKEN_LENGTH = 1000


class InvalidShopperToken(InvalidInput):
    """One answer for a token that is malformed, tampered with, another store's or expired: the
    storefront's remedy is the same (ask its backend for a new one), and nothing is learned."""

    code = "invalid_shopper_token"

    def __init__(self) -> None:
        message = "shopper_token is not valid or has expired: get a new one from your backend"
        super().__init__(message, details=[{"field": "shopper_token", "message": message}])


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, store_id: str, payload: str) -> bytes:
    # JSON keeps the two fields apart whatever characters they hold.
    message = json.dumps(["shopper-token/v1", store_id, payload]).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def issue_shopper_token(
    secret: str, store_id: str, customer_id: str, now: datetime, ttl_seconds: int
) -> tuple[str, datetime]:
    expires_at = (now + timedelta(seconds=ttl_seconds)).replace(microsecond=0)
    payload = _b64(json.dumps([customer_id, int(expires_at.timestamp())]).encode())
    return f"{payload}.{_b64(_mac(secret, store_id, payload))}", expires_at


def verify_shopper_token(secret: str, store_id: str, token: str, now: datetime) -> str:
    """The customer id the token was issued for, if it is this store's and still valid."""
    payload, _, mac = token.partition(".")
    if len(token) > MAX_TOKEN_LENGTH or not payload or not mac:
        raise InvalidShopperToken()
    try:
        good = hmac.compare_digest(_unb64(mac), _mac(secret, store_id, payload))
        customer_id, expires = json.loads(_unb64(payload)) if good else (None, None)
    except (ValueError, TypeError, binascii.Error, RecursionError) as exc:
        raise InvalidShopperToken() from exc
    if not good or not isinstance(customer_id, str) or not isinstance(expires, int):
        raise InvalidShopperToken()
    if expires <= now.timestamp():
        raise InvalidShopperToken()
    return customer_id


def priced_customer(
    secret: str,
    store_id: str,
    *,
    publishable: bool,
    customer_id: str | None,
    shopper_token: str | None,
    now: datetime,
) -> str | None:
    """Whose prices a checkout gets. A token names its customer (a `customer_id` naming another
    is refused). Without one, a secret key's `customer_id` is trusted; a publishable key's is
    not (anyone can type any id), so that cart is priced as a guest's."""
    if shopper_token is not None:
        shopper = verify_shopper_token(secret, store_id, shopper_token, now)
        if customer_id is not None and customer_id != shopper:
            message = "customer_id is not the customer of shopper_token (send only the token)"
            raise InvalidInput(message, details=[{"field": "customer_id", "message": message}])
        return shopper
    return None if publishable else customer_id
