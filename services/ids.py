"""Identifiers and secrets the engine mints: prefixed, URL-safe, from a secure random source."""

import hashlib
import secrets


def new_id(prefix: str) -> str:
    """A sortable-enough unique id such as `msg_3kq...`; 16 random bytes, no coordination."""
    return f"{prefix}_{secrets.token_hex(10)}"


def new_secret(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def hash_secret(secret: str) -> str:
    """API keys are high-entropy random strings, so one SHA-256 is enough to store them."""
    return hashlib.sha256(secret.encode()).hexdigest()
