"""Holdout bucketing: a pure, stable hash that splits the customers in the asked ratio; and the
intervals of the lift report against published figures."""

import pytest

from flow_contract import FlowKind
from services.messaging.holdout import bucket, in_holdout
from services.messaging.lift import _Group, _proportion_difference, wilson

CART = FlowKind.ABANDONED_CART
IDS = [f"c_{n}" for n in range(10_000)]


@pytest.mark.parametrize("percent", [5, 10, 25, 50])
def test_the_share_held_out_is_the_percentage(percent: int) -> None:
    held = sum(in_holdout("st_1", CART, c, percent) for c in IDS)
    # A binomial share of 10,000: within 4 standard deviations (at most 2 points at 50%).
    sd = (10_000 * percent / 100 * (1 - percent / 100)) ** 0.5
    assert abs(held - 100 * percent) < 4 * sd


def test_the_buckets_are_even() -> None:
    counts = [0] * 100
    for c in IDS:
        counts[bucket("st_1", CART, c)] += 1
    assert min(counts) > 60 and max(counts) < 140  # 100 expected in each


def test_the_bucket_is_a_pure_function_of_store_flow_and_customer() -> None:
    # Pinned: SHA-256 of "st_1:abandoned_cart:c_1", first 8 bytes big-endian, modulo 100. A
    # change here moves customers between groups of flows already running.
    assert bucket("st_1", CART, "c_1") == bucket("st_1", "abandoned_cart", "c_1")
    assert [bucket("st_1", CART, c) for c in ("c_1", "c_2", "c_3")] == [18, 69, 72]
    assert bucket("st_1", CART, "c_1") == bucket("st_1", CART, "c_1")
    # Another store or another flow draws again: the same customers are not always held out.
    same = [in_holdout("st_1", CART, c, 50) for c in IDS[:1000]]
    assert same != [in_holdout("st_2", CART, c, 50) for c in IDS[:1000]]
    assert same != [in_holdout("st_1", FlowKind.BROWSE_REMINDER, c, 50) for c in IDS[:1000]]


def test_raising_the_percentage_only_adds_customers_to_the_holdout() -> None:
    at_10 = {c for c in IDS if in_holdout("st_1", CART, c, 10)}
    at_20 = {c for c in IDS if in_holdout("st_1", CART, c, 20)}
    assert at_10 < at_20


def test_no_holdout_without_a_percentage_or_a_customer() -> None:
    assert not any(in_holdout("st_1", CART, c, 0) for c in IDS)
    assert not in_holdout("st_1", CART, None, 50)


def test_wilson_and_newcombe_match_newcombes_paper() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873-890: 56/70 against 48/80, method 10 gives
    # 0.0524 to 0.3339; Wilson's interval of 81/263 is 0.2553 to 0.3662 (Newcombe 1998, 17:857).
    low, high = wilson(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    diff = _proportion_difference(_Group(runs=70, converted=56), _Group(runs=80, converted=48))
    assert diff is not None
    assert (round(diff["estimate"], 4), round(diff["low"], 4), round(diff["high"], 4)) == (
        0.2,
        0.0524,
        0.3339,
    )
