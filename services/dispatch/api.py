"""Dispatch's `/v1` API: whistles, department queues, and what workers do with assignments."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated

from fastapi import APIRouter, Query, Request

from services.dispatch import queue as assignments
from services.dispatch import repository
from services.dispatch.assignment_states import OPEN
from services.dispatch.schemas import AssignmentOut, QueuePage, ReportBackIn, WhistleOut
from shared.access import (
    Owner,
    Principal,
    check_may_read_department,
    check_may_read_unit,
    may_act_for_unit,
)
from shared.auth import require
from shared.service_app import RuntimeDep, SessionDep
from shared.snapshot_cache import SnapshotCache

router = APIRouter(prefix="/v1", tags=["dispatch"])

Reader = Annotated[Principal, require("complaints:read")]
QueueReader = Annotated[Principal, require("queue:read")]
Worker = Annotated[Principal, require("queue:write")]


def _owners(request: Request) -> Mapping[str, Owner]:
    cache: SnapshotCache = request.app.state.snapshot
    return cache.require().index.owners


@router.get("/whistles", response_model=list[WhistleOut])
async def list_whistles(session: SessionDep, principal: Reader, complaint_id: str) -> list[WhistleOut]:
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
    principal: QueueReader,
    status: Annotated[list[str] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> QueuePage:
    check_may_read_department(principal, department_code)
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
    request: Request,
    session: SessionDep,
    principal: QueueReader,
    status: Annotated[list[str] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> QueuePage:
    check_may_read_unit(principal, unit_code, _owners(request).get(unit_code))
    rows = await repository.queue(
        session, unit_code=unit_code, statuses=status or OPEN, limit=limit, after=cursor
    )
    return QueuePage(
        items=[AssignmentOut.model_validate(a) for a in rows],
        next_cursor=rows[-1].id if len(rows) == limit else None,
    )


def _may_act(request: Request, principal: Principal) -> Callable[[str], bool]:
    owners = _owners(request)
    return lambda unit_code: may_act_for_unit(principal, owners.get(unit_code))


@router.post("/assignments/{assignment_id}/sign-off", response_model=AssignmentOut)
async def sign_off(
    assignment_id: str, request: Request, session: SessionDep, runtime: RuntimeDep, principal: Worker
) -> AssignmentOut:
    done = await assignments.sign_off(
        session=session,
        assignment_id=assignment_id,
        outbox=runtime.outbox,
        may_act=_may_act(request, principal),
    )
    return AssignmentOut.model_validate(done)


@router.post("/assignments/{assignment_id}/report-back", response_model=AssignmentOut)
async def report_back(
    assignment_id: str,
    body: ReportBackIn,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Worker,
) -> AssignmentOut:
    done = await assignments.report_back(
        session=session,
        assignment_id=assignment_id,
        result=body.result,
        note=body.note,
        outbox=runtime.outbox,
        may_act=_may_act(request, principal),
    )
    return AssignmentOut.model_validate(done)
