"""Money in integer minor units: currency exponents, half-up rounding, pro rata allocation."""

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction

# A percentage as the store typed it: an int or an exact Decimal, never a float.
Percent = int | Decimal

# ISO 4217 minor-unit exponents that differ from the default of 2, plus the common ones.
CURRENCY_EXPONENTS: dict[str, int] = {
    "JPY": 0,
    "KRW": 0,
    "USD": 2,
    "EUR": 2,
    "KWD": 3,
    "BHD": 3,
    "JOD": 3,
    "OMR": 3,
    "TND": 3,
}
DEFAULT_EXPONENT = 2


def currency_exponent(currency: str) -> int:
    """Number of decimal places of the currency's minor unit (default 2)."""
    return CURRENCY_EXPONENTS.get(currency.upper(), DEFAULT_EXPONENT)


def to_major(amount: int, currency: str) -> Decimal:
    """Minor units as an exact Decimal in major units: 1999 USD -> Decimal('19.99')."""
    exp = currency_exponent(currency)
    return (Decimal(amount) / (Decimal(10) ** exp)).quantize(Decimal(1).scaleb(-exp))


def to_minor(major: Decimal | int | str, currency: str) -> int:
    """Major units to minor units, rounding half-up: '19.995' USD -> 2000."""
    try:
        value = Decimal(major)
    except InvalidOperation as exc:
        raise ValueError(f"amount: {major!r} is not a number") from exc
    if not value.is_finite():
        raise ValueError(f"amount: {major!r} is not a finite number")
    scaled = value.scaleb(currency_exponent(currency))
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_amount(amount: int, currency: str) -> str:
    """Display string, no symbol: 1999 USD -> '19.99', 1500 JPY -> '1500', 1234 KWD -> '1.234'."""
    return f"{to_major(amount, currency):f}"


def round_half_up(value: Fraction | Decimal | int) -> int:
    """Round to the nearest integer, halves away from zero (Decimal's ROUND_HALF_UP)."""
    exact = Fraction(value)
    if exact < 0:
        return -round_half_up(-exact)
    return (2 * exact.numerator + exact.denominator) // (2 * exact.denominator)


def percent_of(amount: int, percent: Percent) -> int:
    """round_half_up(amount * percent / 100), computed exactly in integers (no Fraction: this
    runs for every line of every percentage promotion)."""
    if amount < 0:
        return -percent_of(-amount, percent)
    numerator, denominator = percent.as_integer_ratio()
    return (2 * amount * numerator + 100 * denominator) // (200 * denominator)


def allocate(amount: int, weights: Sequence[int]) -> list[int]:
    """Split `amount` over `weights` pro rata so the parts add up to exactly `amount`.

    Each part gets the floor of its exact share; the leftover units go one each to the
    largest fractional remainders, ties to the LATER position. With amount <= sum(weights)
    no part exceeds its weight.
    """
    if amount < 0 or min(weights, default=0) < 0:
        raise ValueError("allocate: amount and weights must be non-negative")
    if amount == 0:
        return [0] * len(weights)
    total = sum(weights)
    if total == 0:
        raise ValueError("allocate: cannot split a positive amount over zero weights")
    scaled = [amount * w for w in weights]
    parts = [share // total for share in scaled]
    leftover = amount - sum(parts)
    if leftover:
        # (remainder, position) pairs compare in C: largest remainder first, then later position.
        ranked = sorted([(share % total, i) for i, share in enumerate(scaled)], reverse=True)
        for _, i in ranked[:leftover]:
            parts[i] += 1
    return parts


def check_amount(value: object, field: str) -> int:
    """A non-negative integer amount of minor units (bool and float refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{field}: must be a non-negative integer in minor units, got {value!r}")
    return value


def check_percent(value: object, field: str) -> Percent:
    """A percentage in (0, 100] as int or Decimal; str and float are read as decimal text."""
    parsed: Percent
    if isinstance(value, bool):
        raise ValueError(f"{field}: must be a number in (0, 100], got {value!r}")
    if isinstance(value, int | Decimal):
        parsed = value
    elif isinstance(value, float | str):
        try:
            parsed = Decimal(str(value))
        except InvalidOperation as exc:
            raise ValueError(f"{field}: must be a number in (0, 100], got {value!r}") from exc
    else:
        raise ValueError(f"{field}: must be a number in (0, 100], got {value!r}")
    if (isinstance(parsed, Decimal) and not parsed.is_finite()) or not 0 < parsed <= 100:
        raise ValueError(f"{field}: must be a number in (0, 100], got {value!r}")
    return parsed
