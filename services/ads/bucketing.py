"""GrowthBook's deterministic hashing and bucket ranges, so a visitor's variant is the one every
GrowthBook SDK would compute for the same seed and id (their shared `cases.json` vectors are in
tests/services/test_ad_bucketing.py). Pure functions: no I/O."""

from collections.abc import Sequence

FNV_OFFSET = 0x811C9DC5
FNV_PRIME = 0x01000193


def fnv1a32(text: str) -> int:
    """32-bit FNV-1a over the characters' code points, as GrowthBook's SDKs hash."""
    value = FNV_OFFSET
    for char in text:
        value = ((value ^ ord(char)) * FNV_PRIME) & 0xFFFFFFFF
    return value


def gb_hash(seed: str, value: str, version: int = 2) -> float:
    """A number in [0, 1): v1 `fnv(value + seed) % 1000 / 1000`; v2 (the default, better
    spread) `fnv(str(fnv(seed + value))) % 10000 / 10000`."""
    if version == 1:
        return (fnv1a32(value + seed) % 1000) / 1000
    if version == 2:
        return (fnv1a32(str(fnv1a32(seed + value))) % 10000) / 10000
    raise ValueError(f"unknown hash version {version}")


def bucket_ranges(
    count: int, coverage: float = 1.0, weights: Sequence[float] | None = None
) -> list[tuple[float, float]]:
    """GrowthBook's `getBucketRanges`: each variant's slice of [0, 1) from cumulative weights;
    weights that do not sum to 1 (within 0.01) or do not match `count` fall back to equal."""
    coverage = min(max(coverage, 0.0), 1.0)
    equal = [1.0 / count] * count
    chosen = list(weights) if weights is not None else equal
    if len(chosen) != count or not 0.99 <= sum(chosen) <= 1.01:
        chosen = equal
    ranges: list[tuple[float, float]] = []
    cumulative = 0.0
    for weight in chosen:
        start = cumulative
        cumulative += weight
        ranges.append((start, start + coverage * weight))
    return ranges


def choose_variation(n: float, ranges: Sequence[tuple[float, float]]) -> int:
    """The index of the range `n` falls in, or -1 (outside the coverage)."""
    for index, (start, end) in enumerate(ranges):
        if start <= n < end:
            return index
    return -1


def variant_index(seed: str, unit_id: str, weights: Sequence[int]) -> int:
    """The variant a unit gets in an experiment of integer `weights` (all > 0): full coverage,
    so every unit gets one."""
    total = sum(weights)
    ranges = bucket_ranges(len(weights), 1.0, [w / total for w in weights])
    index = choose_variation(gb_hash(seed, unit_id, 2), ranges)
    # Float sums can leave the last range ending a hair under 1: that unit is the last variant's.
    return index if index >= 0 else len(weights) - 1
