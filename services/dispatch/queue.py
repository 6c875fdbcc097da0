"""What a department's workers do with an assignment: sign off, report back."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatch import repository
from services.dispatch.assignment_states import (
    AssignmentView,
    InvalidTransition,
    transition,
    whistle_answered,
)
from services.dispatch.models import Assignment
from shared.errors import Conflict, Forbidden, NotFound
from shared.events import AssignmentReportedBack, AssignmentSignedOff, WhistleCompleted, utcnow
from shared.logging import get_logger
from shared.messaging_tables import Outbox

log = get_logger(__name__)


async def _load(
    session: AsyncSession, assignment_id: str, action: str, may_act: Callable[[str], bool]
) -> tuple[Assignment, str]:
    assignment = await repository.assignment_for_update(session, assignment_id)
    if assignment is None:
        raise NotFound(f"no assignment {assignment_id}")
    if not may_act(assignment.unit_code):
        raise Forbidden(f"this client may not act for {assignment.unit_code}")
    try:
        return assignment, transition(assignment.status, action)
    except InvalidTransition as exc:
        raise Conflict(str(exc), status_now=assignment.status) from exc


def _event_fields(a: Assignment) -> dict[str, object]:
    return dict(
        whistle_id=a.whistle_id,
        complaint_id=a.complaint_id,
        assignment_id=a.id,
        unit_code=a.unit_code,
        department_code=a.department_code,
        role=a.role,
    )


async def sign_off(
    *, session: AsyncSession, assignment_id: str, outbox: Outbox, may_act: Callable[[str], bool]
) -> Assignment:
    """A worker of the assigned unit takes the order (签收)."""
    assignment, status = await _load(session, assignment_id, "sign_off", may_act)
    now = utcnow()
    assignment.status, assignment.signed_off_at = status, now
    await outbox.add(
        session,
        AssignmentSignedOff(**_event_fields(assignment), at=now),
        correlation_id=assignment.complaint_id,
    )
    log.info("dispatch.assignment_signed_off", assignment_id=assignment.id, unit=assignment.unit_code)
    return assignment


async def report_back(
    *,
    session: AsyncSession,
    assignment_id: str,
    result: str,
    note: str,
    outbox: Outbox,
    may_act: Callable[[str], bool],
) -> Assignment:
    """The unit reports its result (反馈); the lead's report completes the whistle."""
    assignment, status = await _load(session, assignment_id, "report_back", may_act)
    now = utcnow()
    assignment.status, assignment.reported_back_at = status, now
    assignment.result, assignment.note = result, note
    await session.flush()
    await outbox.add(
        session,
        AssignmentReportedBack(
            **_event_fields(assignment),
            at=now,
            result=result,
        ),
        correlation_id=assignment.complaint_id,
    )
    whistle, siblings = await repository.siblings_for_update(session, assignment.whistle_id)
    if whistle.status == "open" and whistle_answered(AssignmentView(a.role, a.status) for a in siblings):
        whistle.status, whistle.completed_at = "completed", now
        await outbox.add(
            session,
            WhistleCompleted(whistle_id=whistle.id, complaint_id=whistle.complaint_id, result=result, at=now),
            correlation_id=whistle.complaint_id,
        )
        log.info("dispatch.whistle_completed", whistle_id=whistle.id, result=result)
    return assignment
