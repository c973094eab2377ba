"""How contact data is normalised and hashed before it goes to an ad network (conversions'
user data, audiences): SHA-256 hex of the normalised value, as Google and Meta require. Pure
functions, tested with the networks' published vectors (REFERENCE.md).

Phones reach us validated as E.164 (`customer.upserted`), so normalising is taking the
separators out: Google wants E.164 with its `+`, Meta the digits alone. A value that already
looks hashed (64 hex characters) is passed through: hashing it again is the classic bug."""

import hashlib
import re

_HASHED = re.compile(r"^[0-9a-f]{64}$")
_SEPARATORS = re.compile(r"[\s().\-]")


def sha256_hex(value: str) -> str:
    if _HASHED.match(value):
        return value
    return hashlib.sha256(value.encode()).hexdigest()


def normalised_email(email: str) -> str:
    return email.strip().lower()


def google_phone(phone: str) -> str:
    """E.164 with its `+`: `+44 844 412 4653` -> `+448444124653`."""
    digits = _SEPARATORS.sub("", phone.strip())
    return digits if digits.startswith("+") else f"+{digits}"


def meta_phone(phone: str) -> str:
    """Digits only, country code included: `+44 844 412 4653` -> `448444124653`."""
    return "".join(c for c in phone if c.isdigit())


def hashed_email(email: str) -> str:
    return sha256_hex(normalised_email(email))


def google_hashed_phone(phone: str) -> str:
    return sha256_hex(google_phone(phone))


def meta_hashed_phone(phone: str) -> str:
    return sha256_hex(meta_phone(phone))
