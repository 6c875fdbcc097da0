"""Scores and rankings of every unit of a level over a period or a custom range (the services layer).

The open period is summed from the measures as they are, so it reflects events within seconds. A
closed period shows what was published when it closed (`closing.py` stores it), whatever arrived
late. Weights and thresholds: the scoring policy in force at the span's start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.sla.periods import Span
from services.sla.rankings import Standing, rank
from services.sla.repository import evaluations, measures
from services.sla.scoring import RateView, Scored, score_tally, weights_of
from services.sla.tallies import Level, Tally, build_tallies
from shared.city import CityData, ScoringPolicy


@dataclass(frozen=True)
class Board:
    span: Span
    level: Level
    policy: ScoringPolicy
    standings: list[Standing]


async def tallies(
    session: AsyncSession, span: Span, level: Level, policy: ScoringPolicy, *, unit: str | None = None
) -> dict[str, Tally]:
    counts = await measures.outcome_counts(session, span, level, unit=unit)
    cases = await measures.case_counts(session, span, level, unit=unit)
    evaluated = await evaluations.sums(session, [str(p) for p in span.periods()], level, unit=unit)
    return build_tallies(
        counts, cases=cases, evaluations=evaluated, basically_satisfied=policy.basically_satisfied
    )


async def board(session: AsyncSession, *, span: Span, level: Level, city: CityData) -> Board:
    policy = city.policies_at(span.start).scoring
    scored = [score_tally(t, policy) for t in (await tallies(session, span, level, policy)).values()]
    return Board(span, level, policy, rank(scored))


def rate_out(view: RateView) -> dict[str, Any]:
    return {
        "rate": _r(view.rate),
        "n": view.n,
        "interval": None if view.low is None else [_r(view.low), _r(view.high)],
    }


def score_row(standing: Standing, level: Level) -> dict[str, Any]:
    """A unit's row as `GET /v1/scores` shows it (and as published when its period closes)."""
    unit = standing.unit
    return {
        "unit_code": unit.unit_code,
        "level": level,
        "n": unit.n,
        "score": _r(unit.score),
        "score_interval": None if unit.low is None else [_r(unit.low), _r(unit.high)],
        "eligible": unit.eligible,
        "rank": standing.rank,
        "band": standing.band,
        "rates": {m: rate_out(v) for m, v in unit.rates.items()},
    }


def ranking_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("unit_code", "rank", "band", "score", "n", "eligible")}


def policy_out(policy: ScoringPolicy) -> dict[str, Any]:
    return {
        "weights": weights_of(policy),
        "min_sample": policy.min_sample,
        "basically_satisfied": policy.basically_satisfied,
    }


def scored_out(unit: Scored) -> dict[str, Any]:
    return {
        "n": unit.n,
        "score": _r(unit.score),
        "score_interval": None if unit.low is None else [_r(unit.low), _r(unit.high)],
        "eligible": unit.eligible,
        "rates": {m: rate_out(v) for m, v in unit.rates.items()},
        "shares": {m: _r(s) for m, s in unit.shares.items()},
    }


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
