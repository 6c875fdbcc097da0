"""The highest rate a server takes complaints at within a latency target: open-loop steps (as
`whistle bench intake` drives them, latency counted from when each request was due) at rates that
double from `start` until one misses, then halve the gap between the best rate that met the target
and the first that missed, `refine` times. A step meets the target when its p99 is under the
target, no request failed and at least 98 % of what was due was accepted.

The search (`next_rate`) is pure; `highest_rate` runs it against a `Load`.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.intake.bench import Load, Step

MIN_RATE = 10


@dataclass(frozen=True)
class Ramp:
    start: int = 200
    ceiling: int = 20_000
    refine: int = 2
    seconds: float = 5.0
    connections: int = 64
    p99_ms: float = 50.0


def next_rate(ramp: Ramp, *, best: int | None, missed: int | None, refined: int) -> int | None:
    """The rate to try next, given the best rate that met the target and the lowest that missed so
    far (`refined`: halvings done); None when the search is over."""
    if missed is None:
        rate = ramp.start if best is None else best * 2
        if best is not None and best >= ramp.ceiling:
            return None
        return min(rate, ramp.ceiling)
    if best is None:  # even the first rate missed: go down
        rate = missed // 2
        return rate if rate >= MIN_RATE else None
    if refined >= ramp.refine or missed - best <= max(1, best // 10):
        return None
    return (best + missed) // 2


def meets(step: Step, ramp: Ramp) -> bool:
    return (
        step.percentile(99) < ramp.p99_ms
        and step.errors == 0
        and step.accepted >= 0.98 * step.rate * step.seconds
    )


@dataclass
class Found:
    """The highest rate that met the target (accepted per second, p50 and p99 in ms), or none."""

    rate: float | None
    p50_ms: float | None
    p99_ms: float | None


async def highest_rate(load: Load, ramp: Ramp) -> Found:
    best: Step | None = None
    missed: int | None = None
    refined = 0
    while (
        rate := next_rate(ramp, best=best.rate if best else None, missed=missed, refined=refined)
    ) is not None:
        if missed is not None and best is not None:
            refined += 1
        step = await load.step(rate, ramp.seconds, ramp.connections)
        if meets(step, ramp):
            best = step
        else:
            missed = rate if missed is None else min(missed, rate)
    if best is None:
        return Found(None, None, None)
    return Found(best.accepted / best.elapsed, best.percentile(50), best.percentile(99))
