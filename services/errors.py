"""Domain errors: each carries the HTTP status and the stable code the API renders."""

from typing import Any


class DomainError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: Any = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if code:
            self.code = code


class Unauthorized(DomainError):
    status_code = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class InvalidInput(DomainError):
    status_code = 422
    code = "invalid_input"


class CouponExhausted(Conflict):
    """The code's last use went to another order (or was gone before this one)."""

    code = "coupon_exhausted"


class CouponAlreadyUsed(Conflict):
    """A single-use-per-customer code this customer has already redeemed."""

    code = "coupon_already_used_by_customer"


class GiftCardInsufficient(Conflict):
    """The card no longer holds what the checkout would draw from it."""

    code = "gift_card_insufficient_balance"


class StoreCreditInsufficient(Conflict):
    """The customer's store credit no longer covers what the checkout would draw."""

    code = "store_credit_insufficient_balance"


def invalid_field(field: str, message: str) -> InvalidInput:
    """A 422 naming one field, in the envelope's `details` shape."""
    return InvalidInput(f"{field}: {message}", details=[{"field": field, "message": message}])


def invalid_from_pricing(exc: ValueError, prefix: str = "") -> InvalidInput:
    """The pricing parsers' `actions[0].percent: must be ...` as a 422 on `actions.0.percent`."""
    path, _, message = str(exc).partition(": ")
    field = prefix + path.replace("[", ".").replace("]", "")
    return invalid_field(field, message or str(exc))
