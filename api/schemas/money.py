"""Money and code fields shared by the promotion, gift-card, credit and checkout bodies."""

from typing import Annotated

from pydantic import Field

# 10^13 minor units: beyond any real cart, far below the 64-bit columns.
MAX_AMOUNT = 10**13

Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["USD"])]
Amount = Annotated[
    int, Field(strict=True, ge=0, le=MAX_AMOUNT, description="Integer minor units (1999 = 19.99)")
]
Id = Annotated[str, Field(min_length=1, max_length=200)]
