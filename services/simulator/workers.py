"""How the simulated people behave (pure decisions on a seeded RNG).

A worker who takes an order does each step after a lognormal delay: the time from the order being
queued to the step is a share of that step's deadline (median `share_of_deadline`), so an
emergency is handled in minutes and a normal matter in days, as the policy asks. Some workers
are late for one step (`late_share`: that step's time is past its deadline), some send a
misrouted order back soon after signing it off (`return_share`; the district backstop never
does: returned orders end with it), some ask for more time before answering late
(`extension_share`). The hotline calls the resident back some hours after the answer; a resident
whose matter was handled late is less often satisfied. A street scores an agency by how much of
its work came in on time.

Every time here is in seconds of simulated time.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field

STEPS = ("sign_off", "contact", "report_in", "resolve")
RETURN_REASONS = ("not_our_duty", "wrong_area")


@dataclass(frozen=True)
class Deadlines:
    """A policy's durations for one urgency, from the order being queued."""

    sign_off: float
    contact: float
    report_in: float
    resolve: float

    def of(self, step: str) -> float:
        return float(getattr(self, step))


@dataclass(frozen=True)
class Behaviour:
    share_of_deadline: float = 0.3
    sigma: float = 0.5
    late_share: float = 0.08
    late_factor: tuple[float, float] = (1.15, 2.5)
    return_share: float = 0.06
    extension_share: float = 0.04
    extension_factor: float = 2.0
    """An approved extension moves the answer's deadline to this many times its duration."""
    results: Mapping[str, float] = field(
        default_factory=lambda: {
            "resolved": 0.86,
            "partially_resolved": 0.07,
            "explained": 0.05,
            "unresolvable": 0.02,
        }
    )
    follow_up_median: float = 45 * 60
    approval_median: float = 30 * 60


DEFAULT_BEHAVIOUR = Behaviour()


@dataclass(frozen=True)
class Plan:
    """When a worker does each step, in seconds after the order was queued."""

    sign_off: float
    contact: float
    on_site: float
    answer: float
    """The report-back, or (with `returns`) the return."""
    returns: str | None = None
    extension_at: float | None = None
    extended_to: float | None = None
    """With an extension: the new deadline of the answer, from the order being queued."""
    result: str = "resolved"
    late: str | None = None
    """The step the worker is late for, if any."""


def _share(rng: random.Random, behaviour: Behaviour) -> float:
    return rng.lognormvariate(math.log(behaviour.share_of_deadline), behaviour.sigma)


def plan_order(
    rng: random.Random, deadlines: Deadlines, *, role: str, behaviour: Behaviour = DEFAULT_BEHAVIOUR
) -> Plan:
    """What one worker will do with one order, and when."""
    late = rng.choice(STEPS) if rng.random() < behaviour.late_share else None
    at: dict[str, float] = {}
    before = 0.0
    for step in STEPS:
        factor = rng.uniform(*behaviour.late_factor) if step == late else _share(rng, behaviour)
        at[step] = max(before, deadlines.of(step) * factor)
        before = at[step]
    if role != "backstop" and rng.random() < behaviour.return_share:
        back = at["sign_off"] + deadlines.sign_off * _share(rng, behaviour)
        return Plan(at["sign_off"], back, back, back, returns=rng.choice(RETURN_REASONS))
    result = rng.choices(list(behaviour.results), list(behaviour.results.values()))[0]
    if rng.random() < behaviour.extension_share:
        extended_to = deadlines.resolve * behaviour.extension_factor
        answer = max(at["report_in"], deadlines.resolve * rng.uniform(1.1, behaviour.extension_factor * 0.9))
        ask = at["report_in"] + (min(answer, deadlines.resolve) - at["report_in"]) * 0.5
        return Plan(
            at["sign_off"],
            at["contact"],
            at["report_in"],
            answer,
            extension_at=ask,
            extended_to=extended_to,
            result=result,
        )
    return Plan(at["sign_off"], at["contact"], at["report_in"], at["resolve"], result=result, late=late)


def follow_up_delay(rng: random.Random, behaviour: Behaviour = DEFAULT_BEHAVIOUR) -> float:
    """From the answer to the hotline's call back."""
    return rng.lognormvariate(math.log(behaviour.follow_up_median), 0.6)


def approval_delay(rng: random.Random, behaviour: Behaviour = DEFAULT_BEHAVIOUR) -> float:
    """From a request for more time to its approval."""
    return rng.lognormvariate(math.log(behaviour.approval_median), 0.5)


def follow_up_result(rng: random.Random, *, on_time: bool) -> tuple[bool, str]:
    """What the resident says on the call back: resolved?, and how satisfied."""
    if on_time:
        resolved = rng.random() < 0.95
        weights = (0.80, 0.13, 0.07)
    else:
        resolved = rng.random() < 0.85
        weights = (0.45, 0.25, 0.30)
    satisfaction = rng.choices(("satisfied", "basically_satisfied", "unsatisfied"), weights)[0]
    return resolved, satisfaction


def evaluation_score(rng: random.Random, *, on_time_share: float) -> float:
    """A street's score (0–100) of an agency, from the share of its orders done on time."""
    score = 60 + 35 * max(0.0, min(1.0, on_time_share)) + rng.gauss(0, 3)
    return round(max(0.0, min(100.0, score)), 1)
