"""Token buckets per client, and at most N failures a window per key."""

from __future__ import annotations

from shared.rate_limit import DEFAULT_RATE, FailureLimiter, Limiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_client_may_burst_then_goes_at_its_rate() -> None:
    clock = Clock()
    limiter = Limiter({"hotline": (10.0, 3.0)}, clock=clock)
    assert [limiter.take("h1", "hotline") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.take("h1", "hotline")
    assert 0 < wait <= 0.1  # one token comes every 0.1 s
    clock.now += 0.1
    assert limiter.take("h1", "hotline") == 0.0


def test_each_client_has_its_own_bucket_and_unknown_kinds_a_low_default() -> None:
    limiter = Limiter({"hotline": (1.0, 1.0)}, clock=Clock())
    assert limiter.take("a", "hotline") == 0.0
    assert limiter.take("a", "hotline") > 0
    assert limiter.take("b", "hotline") == 0.0
    burst = int(DEFAULT_RATE[1])
    assert all(limiter.take("x", "mystery") == 0.0 for _ in range(burst))
    assert limiter.take("x", "mystery") > 0


def test_failures_beyond_the_allowance_wait_out_the_window() -> None:
    clock = Clock()
    failures = FailureLimiter(allowed=3, window=60, clock=clock)
    for _ in range(3):
        assert failures.wait("k") == 0.0
        failures.failed("k")
        clock.now += 1
    assert failures.wait("k") == 57.0  # the first failure leaves the window at t=60
    assert failures.wait("other") == 0.0
    clock.now = 61
    assert failures.wait("k") == 0.0
