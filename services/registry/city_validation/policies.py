"""Policies (an SLA for each urgency, scoring weights summing to 1, versions never in force
together) and the calendar's local overrides."""

from __future__ import annotations

import math
from collections.abc import Sequence

from services.registry.city_validation.index import Problem, duplicates
from services.registry.city_validation.rules import ranges_overlap
from shared.city import URGENCIES, CalendarOverride, Policies, PolicyVersion, ScoringPolicy

SLA_URGENCIES = URGENCIES
WEIGHT_TOLERANCE = 1e-6
_SCORING_WEIGHTS = ("response", "resolution", "satisfaction", "on_time", "street_evaluation")


def validate_policies(policies: Policies, path: str = "policies") -> list[Problem]:
    problems: list[Problem] = []
    for urgency in SLA_URGENCIES:
        if urgency not in policies.sla:
            problems.append(Problem(f"{path}.sla", f"SLA policy for urgency {urgency!r} is missing"))
    return problems + validate_scoring(policies.scoring, f"{path}.scoring")


def validate_scoring(scoring: ScoringPolicy, path: str = "scoring") -> list[Problem]:
    """Weights ≥ 0 summing to 1 (within `WEIGHT_TOLERANCE`), a minimum sample of at least one."""
    problems: list[Problem] = []
    weights = {name: getattr(scoring, name) for name in _SCORING_WEIGHTS}
    for name, value in weights.items():
        if not math.isfinite(value) or value < 0:
            problems.append(Problem(f"{path}.{name}", f"scoring weight {name} must be ≥ 0, not {value}"))
    total = math.fsum(weights.values())
    if not abs(total - 1.0) <= WEIGHT_TOLERANCE:
        problems.append(Problem(path, f"scoring weights sum to {total:g}, not 1"))
    if scoring.min_sample < 1:
        problems.append(Problem(f"{path}.min_sample", "min_sample must be at least 1"))
    if scoring.whistle_rate_low >= scoring.whistle_rate_high:
        problems.append(
            Problem(f"{path}.whistle_rate_low", "the whistle-rate band's low end must be below its high end")
        )
    return problems


def check_policy_history(versions: Sequence[PolicyVersion], path: str = "policy_history") -> list[Problem]:
    """Each version names one policy; versions of the same policy are never in force together."""
    problems: list[Problem] = []
    seen: dict[str, list[int]] = {}
    for i, version in enumerate(versions):
        vp = f"{path}[{i}]"
        named = [
            p for p in (version.sla, version.scoring, version.dispatch, version.structure) if p is not None
        ]
        if len(named) != 1 or (version.sla is None) != (version.urgency is None):
            problems.append(
                Problem(
                    vp, "a policy version is either an SLA (with urgency), scoring, dispatch or structure"
                )
            )
            continue
        if version.scoring is not None:
            problems += validate_scoring(version.scoring, f"{vp}.scoring")
        span = (version.effective_from, version.effective_to)
        if span[0] is not None and span[1] is not None and span[1] < span[0]:
            problems.append(Problem(f"{vp}.effective_to", "effective_to is before effective_from"))
        key = (
            f"sla {version.urgency}"
            if version.sla is not None
            else "scoring"
            if version.scoring is not None
            else "dispatch"
            if version.dispatch is not None
            else "structure"
        )
        earlier = seen.setdefault(key, [])
        for j in earlier:
            other = versions[j]
            if ranges_overlap(span, (other.effective_from, other.effective_to)):
                problems.append(
                    Problem(vp, f"{key} policy is in force at the same time as {path}[{j}]: ranges overlap")
                )
                break
        earlier.append(i)
    return problems


def check_calendar(overrides: Sequence[CalendarOverride], path: str = "calendar") -> list[Problem]:
    return duplicates(
        "calendar date", [(f"{path}[{i}].date", o.date.isoformat()) for i, o in enumerate(overrides)]
    )
