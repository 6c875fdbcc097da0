"""A unit's score from its tally and the scoring policy in force for the period (pure).

    score = 100 × Σ w_m × rate_m / Σ w_m      over the weighted measures the unit has data for

The weights are the policy's `response`, `resolution`, `satisfaction`, `on_time` and
`street_evaluation` (contact and report-in rates are shown, not weighted). A measure without data
(a co-department has no follow-ups, a street is not evaluated) drops out and the others carry its
weight, so a unit is judged on what it did. Every rate carries its 95 % Wilson interval; the
score's interval is the same weighted sum over the rates' bounds. A unit with fewer than
`min_sample` cases is shown but not eligible for a rank.

Each counted case explains its share: a case of measure m with value v adds
100 × (w_m / Σ w) × v / n_m to the score, and the shares add up to the score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from services.sla.tallies import RATES, Rate, Tally
from shared.city import ScoringPolicy

Z95 = 1.959963984540054
WEIGHTED = ("response", "resolution", "satisfaction", "on_time", "street_evaluation")


def wilson(successes: float, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (successes may be fractional: weighted outcomes)."""
    if n <= 0:
        return (0.0, 1.0)
    p = min(1.0, max(0.0, successes / n))
    z2 = z * z
    centre = p + z2 / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    scale = 1 + z2 / n
    return (max(0.0, (centre - spread) / scale), min(1.0, (centre + spread) / scale))


def weights_of(policy: ScoringPolicy) -> dict[str, float]:
    return {m: float(getattr(policy, m)) for m in WEIGHTED}


@dataclass(frozen=True)
class RateView:
    n: int
    rate: float | None
    low: float | None
    high: float | None

    @classmethod
    def of(cls, rate: Rate) -> RateView:
        if not rate.n:
            return cls(0, None, None, None)
        low, high = wilson(rate.successes, rate.n)
        return cls(rate.n, rate.successes / rate.n, low, high)


@dataclass(frozen=True)
class Scored:
    unit_code: str
    n: int
    score: float | None
    low: float | None
    high: float | None
    eligible: bool
    rates: dict[str, RateView] = field(default_factory=dict)
    shares: dict[str, float] = field(default_factory=dict)
    """Each weighted measure's share of the score (w_m / Σ w over the measures with data)."""


def score_tally(tally: Tally, policy: ScoringPolicy) -> Scored:
    rates = {m: RateView.of(tally.rate(m)) for m in RATES}
    weights = weights_of(policy)
    present = {m: w for m, w in weights.items() if rates[m].n and w > 0}
    total = sum(present.values())
    eligible = tally.cases >= policy.min_sample
    if not total:
        return Scored(tally.unit_code, tally.cases, None, None, None, False, rates, {})
    shares = {m: w / total for m, w in present.items()}
    score = 100 * sum(shares[m] * (rates[m].rate or 0.0) for m in shares)
    low = 100 * sum(shares[m] * (rates[m].low or 0.0) for m in shares)
    high = 100 * sum(shares[m] * (rates[m].high or 0.0) for m in shares)
    return Scored(tally.unit_code, tally.cases, score, low, high, eligible, rates, shares)


def contribution(scored: Scored, measure: str, value: float) -> float:
    """How much one counted case of `measure` with `value` adds to the unit's score."""
    share = scored.shares.get(measure)
    rate = scored.rates.get(measure)
    if not share or rate is None or not rate.n:
        return 0.0
    return 100 * share * value / rate.n
