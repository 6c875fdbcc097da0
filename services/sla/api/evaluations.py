"""`POST /v1/evaluations` (a street's token) and `GET /v1/evaluations`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from services.sla import evaluations
from services.sla.api.common import PeriodQuery, UnitsDep
from services.sla.api.schemas import EvaluationBody, EvaluationOut
from shared.access import Principal
from shared.auth import require
from shared.events import utcnow
from shared.service_app import SessionDep

router = APIRouter(prefix="/v1", tags=["evaluations"])


@router.post(
    "/evaluations",
    response_model=EvaluationOut,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": EvaluationOut, "description": "the street's evaluation changed"}},
)
async def evaluate(
    body: EvaluationBody,
    response: Response,
    session: SessionDep,
    units: UnitsDep,
    principal: Annotated[Principal, require("evaluate")],
) -> EvaluationOut:
    """The street's score (0–100) of an agency that serves it, for a period not closed yet (201); the
    same street, agency and period again changes it (200)."""
    row, created = await evaluations.record(
        session,
        principal=principal,
        body=evaluations.EvaluationIn(body.unit_code, body.period, body.score, body.comment or ""),
        units=units,
        now=utcnow(),
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return EvaluationOut.model_validate(row)


@router.get("/evaluations", response_model=list[EvaluationOut])
async def list_evaluations(
    session: SessionDep,
    units: UnitsDep,
    principal: Annotated[Principal, require("sla:read")],
    period: PeriodQuery = None,
    unit: Annotated[str | None, Query(max_length=64)] = None,
    street: Annotated[str | None, Query(max_length=64)] = None,
) -> list[EvaluationOut]:
    """Departments read their own agencies' evaluations, streets their own, a district all of its."""
    found = await evaluations.find(
        session, principal=principal, units=units, period=period, unit=unit, street=street
    )
    return [EvaluationOut.model_validate(r) for r in found]
