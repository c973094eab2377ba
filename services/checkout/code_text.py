"""Coupon and gift-card codes: unambiguous alphabets, generation, normalising what shoppers type,
and the keyed hash under which gift-card codes are stored."""

import hashlib
import hmac
import re
import secrets

# No 0/O, 1/I/L: codes are read aloud, typed from print and copied by hand.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
COUPON_RANDOM_LENGTH = 10
# 31^16 is about 2^79: far beyond guessing at any request rate.
GIFT_CARD_LENGTH = 16
COUPON_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,63}$")
COUPON_PREFIX = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,19}$")
GIFT_CARD_CODE = re.compile(r"^[A-Z0-9]{16,64}$")


def random_code(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalize_coupon(code: str) -> str:
    """Coupon codes match case-insensitively and without surrounding spaces."""
    return code.strip().upper()


def normalize_gift_card(code: str) -> str:
    """Gift-card codes are shown in groups (ABCD-EFGH-...); spaces and dashes do not count."""
    return re.sub(r"[\s-]", "", code).upper()


def group_gift_card(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def mask_gift_card(code_or_last4: str) -> str:
    """How a gift-card code is displayed once issued: its last four characters only."""
    return f"****{code_or_last4[-4:]}"


def hash_gift_card(normalized: str, key: str) -> str:
    return hmac.new(key.encode(), normalized.encode(), hashlib.sha256).hexdigest()
