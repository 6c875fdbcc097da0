"""A unit's scorecard: its score, and every case that counted and how much, every case excluded and
why, each naming its complaint — so a department can check its score case by case.

The `counted` entries' `contributes` (and the evaluations') add up to the score (see `scoring`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.sla.periods import Span
from services.sla.repository import evaluations, measures
from services.sla.scoring import Scored, contribution, score_tally
from services.sla.standings import policy_out, scored_out, tallies
from services.sla.tallies import Tally, outcome_value
from services.sla.units import UnitInfo
from shared.city import CityData


async def scorecard(session: AsyncSession, *, unit: UnitInfo, span: Span, city: CityData) -> dict[str, Any]:
    policy = city.policies_at(span.start).scoring
    tally = (await tallies(session, span, unit.level, policy, unit=unit.code)).get(
        unit.code, Tally(unit.code)
    )
    scored = score_tally(tally, policy)
    counted: list[dict[str, Any]] = []
    excluded: list[dict[str, Any]] = []
    for row in await measures.cases(session, span, unit.level, unit.code):
        case = {
            "complaint_id": row.complaint_id,
            "whistle_id": row.whistle_id,
            "assignment_id": row.assignment_id,
            "unit_code": row.unit_code,
            "measure": row.measure,
            "outcome": row.outcome,
            "at": row.at,
            "reason": row.reason,
        }
        if row.counted:
            value = outcome_value(row.outcome, basically_satisfied=policy.basically_satisfied)
            counted.append(
                case | {"value": value, "contributes": round(contribution(scored, row.measure, value), 6)}
            )
        else:
            excluded.append(case)
    return {
        "unit_code": unit.code,
        "level": unit.level,
        "period": span.label,
        "from": span.start,
        "to": span.end,
        "policy": policy_out(policy),
        **scored_out(scored),
        "counted": counted,
        "excluded": excluded,
        "evaluations": await _evaluations(session, unit, span, scored),
    }


async def _evaluations(
    session: AsyncSession, unit: UnitInfo, span: Span, scored: Scored
) -> list[dict[str, Any]]:
    if unit.level == "street":
        return []
    periods = [str(p) for p in span.periods()]
    found = await evaluations.find(
        session,
        periods=periods,
        unit=unit.code if unit.level == "agency" else None,
        department=unit.code if unit.level == "department" else None,
    )
    return [
        {
            "period": e.period,
            "street_code": e.street_code,
            "unit_code": e.unit_code,
            "score": e.score,
            "contributes": round(contribution(scored, "street_evaluation", e.score / 100), 6),
        }
        for e in found
    ]
