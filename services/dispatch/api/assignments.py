"""`/v1/assignments/{id}`: what a unit does with an assignment. Each action answers 200 with the
assignment (an extension request 201 with the request); a retry with the same `Idempotency-Key`
gets the first answer again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from services.dispatch import assignments
from services.dispatch.api.deps import IdempotencyKey, QueueReader, Worker, actor, work
from services.dispatch.api.idempotency import fingerprint, once
from services.dispatch.api.views import assignment_out
from services.dispatch.assignments import Actor, Work
from services.dispatch.models import Assignment
from services.dispatch.repository import assignments as assignment_rows
from services.dispatch.schemas import (
    ActionIn,
    AssignmentOut,
    ExtensionIn,
    ExtensionOut,
    ReportBackIn,
    ReportInIn,
    ReturnIn,
)
from shared.access import Principal
from shared.errors import Forbidden, NotFound
from shared.service_app import RuntimeDep, SessionDep

router = APIRouter(prefix="/v1", tags=["assignments"])

Perform = Callable[[Actor, Work], Awaitable[Assignment]]


@router.get("/assignments/{assignment_id}", response_model=AssignmentOut)
async def get_assignment(
    assignment_id: str, request: Request, session: SessionDep, principal: QueueReader
) -> AssignmentOut:
    found = await assignment_rows.assignment(session, assignment_id)
    if found is None:
        raise NotFound(f"no assignment {assignment_id}")
    if not principal.reads_everything and not actor(request, principal, None).may_act(found):
        raise Forbidden(f"this client may not read the assignments of {found.unit_code}")
    return assignment_out(found)


async def _act(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Principal,
    key: str | None,
    *,
    action: str,
    assignment_id: str,
    body: BaseModel,
    worker: str | None,
    perform: Perform,
) -> Response:
    async def run() -> AssignmentOut:
        return assignment_out(await perform(actor(request, principal, worker), work(request, runtime)))

    return await once(
        session,
        client_id=principal.client_id,
        key=key,
        fingerprint=fingerprint(action, assignment_id, body.model_dump(mode="json")),
        status_code=200,
        run=run,
    )


@router.post("/assignments/{assignment_id}/sign-off", response_model=AssignmentOut)
async def sign_off(
    assignment_id: str,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Worker,
    key: IdempotencyKey = None,
    body: ActionIn | None = None,
) -> Response:
    """签收: the unit takes the order."""
    body = body or ActionIn()
    return await _act(
        request,
        session,
        runtime,
        principal,
        key,
        action="sign-off",
        assignment_id=assignment_id,
        body=body,
        worker=body.worker,
        perform=lambda who, w: assignments.sign_off(session, assignment_id=assignment_id, actor=who, work=w),
    )


@router.post("/assignments/{assignment_id}/report-in", response_model=AssignmentOut)
async def report_in(
    assignment_id: str,
    body: ReportInIn,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Worker,
    key: IdempotencyKey = None,
) -> Response:
    """报到: the unit contacted the resident, or is on site."""
    return await _act(
        request,
        session,
        runtime,
        principal,
        key,
        action="report-in",
        assignment_id=assignment_id,
        body=body,
        worker=body.worker,
        perform=lambda who, w: assignments.report_in(
            session,
            assignment_id=assignment_id,
            kind=body.kind,
            at=body.at,
            note=body.note,
            actor=who,
            work=w,
        ),
    )


@router.post("/assignments/{assignment_id}/report-back", response_model=AssignmentOut)
async def report_back(
    assignment_id: str,
    body: ReportBackIn,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Worker,
    key: IdempotencyKey = None,
) -> Response:
    """反馈: the unit's result; the answering unit's completes the whistle."""
    return await _act(
        request,
        session,
        runtime,
        principal,
        key,
        action="report-back",
        assignment_id=assignment_id,
        body=body,
        worker=body.worker,
        perform=lambda who, w: assignments.report_back(
            session, assignment_id=assignment_id, result=body.result, note=body.note, actor=who, work=w
        ),
    )


@router.post("/assignments/{assignment_id}/return", response_model=AssignmentOut)
async def return_order(
    assignment_id: str,
    body: ReturnIn,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Worker,
    key: IdempotencyKey = None,
) -> Response:
    """退单: the order goes back and is re-routed (after the bounce limit: the district backstop)."""
    return await _act(
        request,
        session,
        runtime,
        principal,
        key,
        action="return",
        assignment_id=assignment_id,
        body=body,
        worker=body.worker,
        perform=lambda who, w: assignments.return_order(
            session, assignment_id=assignment_id, reason=body.reason, note=body.note, actor=who, work=w
        ),
    )


@router.post("/assignments/{assignment_id}/release", response_model=AssignmentOut)
async def release(
    assignment_id: str,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Worker,
    key: IdempotencyKey = None,
    body: ActionIn | None = None,
) -> Response:
    """The worker gives its claim back: the order is offered to the department's workers again."""
    body = body or ActionIn()
    return await _act(
        request,
        session,
        runtime,
        principal,
        key,
        action="release",
        assignment_id=assignment_id,
        body=body,
        worker=body.worker,
        perform=lambda who, w: assignments.release(session, assignment_id=assignment_id, actor=who),
    )


@router.post("/assignments/{assignment_id}/extension", response_model=ExtensionOut, status_code=201)
async def request_extension(
    assignment_id: str,
    body: ExtensionIn,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Worker,
    key: IdempotencyKey = None,
) -> Response:
    """延期: ask the street or the district for more time (one pending request at a time)."""

    async def run() -> ExtensionOut:
        _, asked = await assignments.request_extension(
            session,
            assignment_id=assignment_id,
            working_days=body.working_days,
            until=body.until,
            reason=body.reason,
            actor=actor(request, principal, body.worker),
            work=work(request, runtime),
        )
        return ExtensionOut.model_validate(asked)

    return await once(
        session,
        client_id=principal.client_id,
        key=key,
        fingerprint=fingerprint("extension", assignment_id, body.model_dump(mode="json")),
        status_code=201,
        run=run,
    )
