"""Signing secrets of webhook endpoints: made, kept encrypted at rest, and used to sign.

The secret has to be read back to sign each delivery, so it cannot be stored as a hash like an
API key: it is encrypted with AES-GCM under a key from SHOPSTAR_WEBHOOK_SECRET_KEY, bound to its
endpoint's id (a ciphertext copied onto another row does not decrypt)."""

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.ids import new_secret

SECRET_PREFIX = "whsec"
NONCE_BYTES = 12
SIGNATURE_HEADER = "ShopSTAR-Signature"
DELIVERY_ID_HEADER = "ShopSTAR-Delivery-Id"


class SecretUnreadable(Exception):
    """The stored secret does not decrypt: the key was changed since the endpoint was made."""


def new_signing_secret() -> str:
    return new_secret(SECRET_PREFIX)


def _cipher(key: str) -> AESGCM:
    # The setting is any string of 32+ characters; SHA-256 makes it the 256-bit key AES needs.
    return AESGCM(hashlib.sha256(key.encode()).digest())


def encrypt_secret(key: str, endpoint_id: str, secret: str) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + _cipher(key).encrypt(nonce, secret.encode(), endpoint_id.encode())


def decrypt_secret(key: str, endpoint_id: str, stored: bytes) -> str:
    nonce, sealed = stored[:NONCE_BYTES], stored[NONCE_BYTES:]
    try:
        return _cipher(key).decrypt(nonce, sealed, endpoint_id.encode()).decode()
    except InvalidTag as exc:
        raise SecretUnreadable("the endpoint's signing secret cannot be decrypted") from exc


def signature_header(secret: str, timestamp: int, body: str) -> str:
    """`t=<unix>,v1=<hex HMAC-SHA256 of "{t}.{body}">`, as Stripe signs: the timestamp inside
    the signed text lets a receiver refuse a captured request replayed later."""
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"
