"""Token buckets: how many requests a client may make, per replica (pure; the clock is injectable).

Writes are limited per client by its kind (`WRITE_RATES`, overridable in settings); failed token
requests per client id (known or unknown) by `FailureLimiter`. Limits are per process: with N
replicas a client gets up to N times the rate, which is what a limit against floods needs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

# Requests per second and burst, by client kind. High enough for the benchmarks (a hotline filing
# 2,000 complaints/s, a department's workers 5,000 claims and actions/s); floods beyond are refused.
WRITE_RATES: Mapping[str, tuple[float, float]] = {
    "hotline": (2500.0, 5000.0),
    "department": (6000.0, 12000.0),
    "street": (200.0, 400.0),
    "district": (200.0, 400.0),
    "admin": (100.0, 200.0),
    "viewer": (50.0, 100.0),
}
DEFAULT_RATE = (50.0, 100.0)
MAX_BUCKETS = 100_000


@dataclass
class Bucket:
    rate: float
    capacity: float
    tokens: float
    updated: float

    def take(self, now: float) -> float:
        """Take one token: 0 when granted, else the seconds until one is there."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class Limiter:
    rates: Mapping[str, tuple[float, float]] = field(default_factory=lambda: dict(WRITE_RATES))
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, Bucket] = field(default_factory=dict)

    def take(self, key: str, kind: str) -> float:
        """0 when `key` (a client) may go on now, else how many seconds it should wait."""
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_BUCKETS:
                self._buckets.clear()
            rate, burst = self.rates.get(kind, DEFAULT_RATE)
            bucket = self._buckets[key] = Bucket(rate, burst, burst, now)
        return bucket.take(now)


@dataclass
class FailureLimiter:
    """At most `allowed` failures per key in `window` seconds; further attempts wait out the window."""

    allowed: int = 10
    window: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, list[float]] = field(default_factory=dict)

    def wait(self, key: str) -> float:
        """0 when an attempt may be made now, else the seconds until one may."""
        now = self.clock()
        recent = [t for t in self._failures.get(key, ()) if now - t < self.window]
        if recent:
            self._failures[key] = recent
        else:
            self._failures.pop(key, None)
        if len(recent) < self.allowed:
            return 0.0
        return self.window - (now - recent[0])

    def failed(self, key: str) -> None:
        if len(self._failures) >= MAX_BUCKETS:
            self._failures.clear()
        self._failures.setdefault(key, []).append(self.clock())
