"""The street's evaluation power (考核评价权): a street scores each agency that serves it, once per
period, and may change its score until the period closes. The mean enters the agency's score.

Every problem with a request is reported at once (422): a score outside 0–100, a malformed period
or one not begun yet, a closed period, an unknown agency. Evaluating an agency that does not serve
the street is refused (403). Nothing is written on error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from services.sla.periods import Period, has_begun, parse_period
from services.sla.repository import evaluations as rows
from services.sla.repository import periods
from services.sla.units import Directory
from shared.access import Principal, check_may_evaluate, check_within_scope, evaluations_scope
from shared.errors import Unprocessable
from shared.logging import get_logger

log = get_logger(__name__)
MAX_COMMENT = 2000


@dataclass(frozen=True)
class EvaluationIn:
    unit_code: str
    period: str
    score: float
    comment: str = ""


def problems(
    body: EvaluationIn, *, units: Directory, now: datetime
) -> tuple[list[dict[str, str]], Period | None]:
    """Every field problem of an evaluation (pure), and the period when it parses."""
    found: list[dict[str, str]] = []
    if not math.isfinite(body.score) or not 0 <= body.score <= 100:
        found.append({"field": "score", "message": "a score is between 0 and 100"})
    period: Period | None = None
    try:
        period = parse_period(body.period)
        if not has_begun(period, now):
            found.append({"field": "period", "message": f"period {period} has not begun"})
    except ValueError as exc:
        found.append({"field": "period", "message": str(exc)})
    if not units.is_agency(body.unit_code):
        found.append({"field": "unit_code", "message": f"{body.unit_code!r} is not a department's agency"})
    if len(body.comment) > MAX_COMMENT:
        found.append({"field": "comment", "message": f"at most {MAX_COMMENT} characters"})
    return found, period


async def record(
    session: AsyncSession, *, principal: Principal, body: EvaluationIn, units: Directory, now: datetime
) -> tuple[Row[Any], bool]:
    """Write the street's evaluation; the row, and whether it is new."""
    found, period = problems(body, units=units, now=now)
    if period is not None and not found:
        await periods.lock(session, str(period))  # a period closing meanwhile waits, or is seen closed
        if await periods.closed(session, str(period)) is not None:
            found.append({"field": "period", "message": f"period {period} is closed"})
    if found:
        raise Unprocessable("The evaluation is not valid.", errors=found)
    assert period is not None
    unit = units.get(body.unit_code)
    assert unit is not None
    check_may_evaluate(principal, unit_code=body.unit_code, serves=unit.serves)
    street = principal.street or ""
    row, created = await rows.put(
        session,
        dict(
            period=str(period), street_code=street, unit_code=body.unit_code,
            department_code=unit.department_code, district_code=units.index.street_district.get(street, ""),
            score=float(body.score), comment=body.comment, evaluated_by=principal.client_id,
        ),
    )  # fmt: skip
    log.info(
        "sla.evaluation_recorded", period=str(period), street=street, unit=body.unit_code, created=created
    )
    return row, created


async def find(
    session: AsyncSession,
    *,
    principal: Principal,
    units: Directory,
    period: str | None,
    unit: str | None,
    street: str | None,
) -> list[Row[Any]]:
    """The evaluations the client may read, narrowed by the filters (outside its scope: 403)."""
    scope = evaluations_scope(principal)
    info = units.get(unit) if unit else None
    check_within_scope(
        scope,
        street=street,
        street_district=units.index.street_district.get(street) if street else None,
        department=info.department_code if info else None,
    )
    return await rows.find(
        session,
        periods=[str(parse_period(period))] if period else None,
        unit=unit,
        street=street or scope.street,
        department=scope.department,
        district=scope.district,
    )
