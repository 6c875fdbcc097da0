"""The read model per unit and period: what each case counted for, summed per unit (pure).

A case is one complaint a unit handled. What it counts for is kept one row per measure (the
`measures` table): a clock's outcome (`clocks.judge`), a follow-up call's result, counted or
excluded with the reason. Summed per unit over a period they give the unit's rates:

    response       assignments signed off in time / judged
    contact        contacted in time / judged            report_in   on site in time / judged
    resolution     follow-ups `resolved` / follow-ups
    satisfaction   (satisfied + basically_satisfied × the policy's weight) / follow-ups
    on_time        resolved (reported back) in time / judged
    street_evaluation   the mean of the streets' evaluations (0–100, as a share)

Levels: `agency` (a department's dispatched agency, or a district backstop), `department` (all its
agencies together) and `street` (the street's own units together). A follow-up counts for the
unit that answered the round it follows up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

Level = Literal["agency", "department", "street"]
LEVELS: tuple[Level, ...] = ("agency", "department", "street")
RATES = ("response", "contact", "report_in", "resolution", "satisfaction", "on_time", "street_evaluation")
CASE_MEASURES = ("response", "contact", "report_in", "on_time", "resolution", "satisfaction")
"""The measures a case row can carry (the street evaluation is not a case)."""
WHISTLE_MEASURE = "whistle"
"""A street's own whistle, counted for the whistle-rate health (never scored)."""

_VALUE = {
    "met": 1.0,
    "breached": 0.0,
    "resolved": 1.0,
    "unresolved": 0.0,
    "satisfied": 1.0,
    "unsatisfied": 0.0,
}


def outcome_value(outcome: str, *, basically_satisfied: float) -> float:
    """How much one counted outcome adds to its rate's numerator."""
    if outcome == "basically_satisfied":
        return basically_satisfied
    return _VALUE.get(outcome, 0.0)


def follow_up_outcomes(*, resolved: bool, satisfaction: str) -> list[tuple[str, str]]:
    """What a follow-up call (回访) counts for: (measure, outcome) pairs."""
    return [("resolution", "resolved" if resolved else "unresolved"), ("satisfaction", satisfaction)]


@dataclass(frozen=True)
class OutcomeCount:
    """Counted rows of one unit, measure and outcome in a period."""

    unit_code: str
    measure: str
    outcome: str
    count: int


@dataclass(frozen=True)
class Rate:
    n: int
    successes: float

    @property
    def rate(self) -> float | None:
        return self.successes / self.n if self.n else None


@dataclass
class Tally:
    unit_code: str
    cases: int = 0
    rates: dict[str, Rate] = field(default_factory=dict)

    def rate(self, measure: str) -> Rate:
        return self.rates.get(measure, Rate(0, 0.0))


def build_tallies(
    counts: Iterable[OutcomeCount],
    *,
    cases: Mapping[str, int],
    evaluations: Mapping[str, tuple[int, float]],
    basically_satisfied: float,
) -> dict[str, Tally]:
    """Per unit: the number of cases, and each rate's n and numerator. `evaluations` maps a unit to
    (number of evaluations, sum of their scores 0–100)."""
    tallies: dict[str, Tally] = {}
    sums: dict[tuple[str, str], list[float]] = {}
    for row in counts:
        acc = sums.setdefault((row.unit_code, row.measure), [0, 0.0])
        acc[0] += row.count
        acc[1] += row.count * outcome_value(row.outcome, basically_satisfied=basically_satisfied)
    for (unit, measure), (n, successes) in sums.items():
        tallies.setdefault(unit, Tally(unit)).rates[measure] = Rate(int(n), successes)
    for unit, (n, total) in evaluations.items():
        if n:
            tallies.setdefault(unit, Tally(unit)).rates["street_evaluation"] = Rate(n, total / 100)
    for unit, n in cases.items():
        tallies.setdefault(unit, Tally(unit)).cases = n
    return tallies
