"""Which held promotions are live for a cart: by the clock and the currency, without a reload."""

from datetime import UTC, datetime, timedelta

from services.checkout import pricing
from services.checkout.store_state import StoreState, TimedPromotion

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _timed(
    pid: str, starts: int | None, ends: int | None, currency: str | None = None
) -> TimedPromotion:
    body = {"actions": [{"type": "free_shipping"}]}
    parsed = pricing.promotion_from_dict(pid, body, 1)
    return TimedPromotion(((pid, 1), parsed, ()), _at(starts), _at(ends), currency)


def _at(seconds: int | None) -> datetime | None:
    return None if seconds is None else T0 + timedelta(seconds=seconds)


def _ids(state: StoreState, currency: str, seconds: float) -> list[str]:
    live, _ = state.live(currency, T0 + timedelta(seconds=seconds))
    return [key[0] for key, _, _ in live]


def test_promotions_start_and_end_on_time_in_their_currency() -> None:
    state = StoreState(
        "f",
        [
            _timed("always", None, None),
            _timed("later", 10, None),
            _timed("ending", None, 20),
            _timed("euros", None, None, "EUR"),
        ],
        [],
        frozenset(),
        frozenset(),
        needs_first_order=False,
    )
    assert _ids(state, "USD", 0) == ["always", "ending"]
    assert _ids(state, "USD", 9.999) == ["always", "ending"]
    assert _ids(state, "USD", 10) == ["always", "later", "ending"]  # starts_at is included
    assert _ids(state, "USD", 19) == ["always", "later", "ending"]
    assert _ids(state, "USD", 20) == ["always", "later"]  # ends_at is not
    assert _ids(state, "EUR", 20) == ["always", "later", "euros"]
    assert _ids(state, "USD", 5) == ["always", "ending"]  # a clock read earlier, after a later one
