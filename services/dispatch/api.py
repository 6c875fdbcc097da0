"""Dispatch's `/v1` API: whistles, department queues, and what workers do with assignments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.dispatch import queue as assignments
from services.dispatch import repository
from services.dispatch.assignment_states import OPEN
from services.dispatch.schemas import AssignmentOut, QueuePage, ReportBackIn, WhistleOut
from shared.service_app import RuntimeDep, SessionDep

router = APIRouter(prefix="/v1", tags=["dispatch"])


@router.get("/whistles", response_model=list[WhistleOut])
async def list_whistles(session: SessionDep, complaint_id: str) -> list[WhistleOut]:
    return [
        WhistleOut(
            id=w.id,
            complaint_id=w.complaint_id,
            round=w.round,
            category=w.category,
            urgency=w.urgency,
            street_code=w.street_code,
            status=w.status,
            reasons=list(w.reasons),
            issued_at=w.issued_at,
            completed_at=w.completed_at,
            assignments=[AssignmentOut.model_validate(a) for a in w.assignments],
        )
        for w in await repository.whistles_of(session, complaint_id)
    ]


@router.get("/departments/{department_code}/queue", response_model=QueuePage)
async def department_queue(
    department_code: str,
    session: SessionDep,
    status: Annotated[list[str] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> QueuePage:
    rows = await repository.queue(
        session, department_code=department_code, statuses=status or OPEN, limit=limit, after=cursor
    )
    return QueuePage(
        items=[AssignmentOut.model_validate(a) for a in rows],
        next_cursor=rows[-1].id if len(rows) == limit else None,
    )


@router.get("/units/{unit_code}/queue", response_model=QueuePage)
async def unit_queue(
    unit_code: str,
    session: SessionDep,
    status: Annotated[list[str] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> QueuePage:
    rows = await repository.queue(
        session, unit_code=unit_code, statuses=status or OPEN, limit=limit, after=cursor
    )
    return QueuePage(
        items=[AssignmentOut.model_validate(a) for a in rows],
        next_cursor=rows[-1].id if len(rows) == limit else None,
    )


@router.post("/assignments/{assignment_id}/sign-off", response_model=AssignmentOut)
async def sign_off(assignment_id: str, session: SessionDep, runtime: RuntimeDep) -> AssignmentOut:
    done = await assignments.sign_off(session=session, assignment_id=assignment_id, outbox=runtime.outbox)
    return AssignmentOut.model_validate(done)


@router.post("/assignments/{assignment_id}/report-back", response_model=AssignmentOut)
async def report_back(
    assignment_id: str, body: ReportBackIn, session: SessionDep, runtime: RuntimeDep
) -> AssignmentOut:
    done = await assignments.report_back(
        session=session,
        assignment_id=assignment_id,
        result=body.result,
        note=body.note,
        outbox=runtime.outbox,
    )
    return AssignmentOut.model_validate(done)
