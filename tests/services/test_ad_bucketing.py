"""GrowthBook hashing and bucket ranges against the cross-SDK vectors of GrowthBook's
`cases.json` (the same numbers in every SDK's tests), and the probability-to-beat-control."""

import pytest

from services.ads.bucketing import bucket_ranges, choose_variation, fnv1a32, gb_hash, variant_index
from services.ads.stats import probability_beats

# [seed, value, version, expected]: growthbook/packages/sdk-js/test/cases.json, "hash".
HASH_VECTORS = [
    ("", "a", 1, 0.22),
    ("", "b", 1, 0.077),
    ("b", "a", 1, 0.946),
    ("ef", "d", 1, 0.652),
    ("asdf", "8952klfjas09ujk", 1, 0.549),
    ("", "123", 1, 0.011),
    ("", '___)((*":&', 1, 0.563),
    ("seed", "a", 2, 0.0505),
    ("seed", "b", 2, 0.2696),
    ("foo", "ab", 2, 0.2575),
    ("foo", "def", 2, 0.2019),
    ("89123klj", "8952klfjas09ujkasdf", 2, 0.124),
    ("90850943850283058242805", "123", 2, 0.7516),
    ("()**(%$##$%#$#", '___)((*":&', 2, 0.0128),
]

# [numVariations, coverage, weights] -> ranges: cases.json, "getBucketRange".
RANGE_VECTORS = [
    ((2, 1, None), [(0, 0.5), (0.5, 1)]),
    ((2, 0.5, None), [(0, 0.25), (0.5, 0.75)]),
    ((2, 0, None), [(0, 0), (0.5, 0.5)]),
    ((4, 1, None), [(0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1)]),
    ((2, 1, [0.4, 0.6]), [(0, 0.4), (0.4, 1)]),
    ((3, 1, [0.2, 0.3, 0.5]), [(0, 0.2), (0.2, 0.5), (0.5, 1)]),
    ((3, 0.2, [0.2, 0.3, 0.5]), [(0, 0.04), (0.2, 0.26), (0.5, 0.6)]),
    # GrowthBook's fallback rule: weights not summing to 1, or not one per variant, are equal.
    ((2, 1, [0.4, 0.1]), [(0, 0.5), (0.5, 1)]),
    ((2, 1, [0.7, 0.6]), [(0, 0.5), (0.5, 1)]),
    ((4, 1, [0.4, 0.6]), [(0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1)]),
]


def test_fnv1a32_reference_values() -> None:
    assert fnv1a32("") == 0x811C9DC5
    assert fnv1a32("a") == 0xE40C292C
    assert fnv1a32("foobar") == 0xBF9CF968


@pytest.mark.parametrize(("seed", "value", "version", "expected"), HASH_VECTORS)
def test_hash_matches_the_cross_sdk_vectors(
    seed: str, value: str, version: int, expected: float
) -> None:
    assert gb_hash(seed, value, version) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(("args", "expected"), RANGE_VECTORS)
def test_bucket_ranges_match_the_cross_sdk_vectors(
    args: tuple[int, float, list[float] | None], expected: list[tuple[float, float]]
) -> None:
    got = bucket_ranges(*args)
    assert [(round(a, 6), round(b, 6)) for a, b in got] == expected


def test_choose_variation() -> None:
    even, reduced = bucket_ranges(2), bucket_ranges(2, 0.5)
    assert [choose_variation(n, even) for n in (0.2, 0.6, 0.4, 0.8)] == [0, 1, 0, 1]
    assert [choose_variation(n, reduced) for n in (0.2, 0.6, 0.4, 0.8)] == [0, 1, -1, -1]


def test_integer_weights_map_onto_growthbook_ranges() -> None:
    # Weights 2:3 are GrowthBook's [0.4, 0.6]: the unit's v2 hash picks the range.
    n = gb_hash("campaign", "visitor", 2)
    assert variant_index("campaign", "visitor", [2, 3]) == (0 if n < 0.4 else 1)
    assert variant_index("campaign", "visitor", [1]) == 0


@pytest.mark.parametrize(
    ("control", "variant", "expected"),
    [
        ((0, 1), (1, 1), 5 / 6),  # Beta(1,2) vs Beta(2,1): integral of 2b(2b - b^2)
        ((1, 2), (2, 2), 0.8),  # Beta(2,2) vs Beta(3,1)
        ((2, 2), (1, 2), 0.2),  # the same, the other way round
        ((10, 100), (10, 100), 0.5),
    ],
)
def test_probability_beats_control_closed_form(
    control: tuple[int, int], variant: tuple[int, int], expected: float
) -> None:
    assert probability_beats(*control, *variant) == pytest.approx(expected, abs=1e-9)


def test_large_counts_use_the_normal_approximation_sensibly() -> None:
    p = probability_beats(300_000, 1_000_000, 302_000, 1_000_000)
    assert 0.99 < p < 1.0
