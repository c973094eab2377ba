"""Token buckets per caller, in process. Each api replica holds its own buckets, so the configured
rate (a deployment-wide figure) is divided by `SHOPSTAR_API_REPLICAS`."""

import math
import time
from dataclasses import dataclass

MAX_BUCKETS = 50_000  # idle full buckets are dropped past this, so memory stays bounded


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """`rate` requests a second with bursts of `burst`; a rate of 0 lets everything through."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self._buckets: dict[str, _Bucket] = {}

    def retry_after(self, key: str, now: float | None = None) -> int | None:
        """Take one token for `key`: None when allowed, else whole seconds until one is due."""
        if self.rate <= 0:
            return None
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_BUCKETS:
                self._prune(now)
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        return max(1, math.ceil((1 - bucket.tokens) / self.rate))

    def _prune(self, now: float) -> None:
        full_after = self.burst / self.rate
        for key in [k for k, b in self._buckets.items() if now - b.stamp >= full_after]:
            del self._buckets[key]
