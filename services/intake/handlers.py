"""Intake's reactions to dispatch events: the resident-facing status moves forward."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import repository
from services.intake.status import next_status
from shared.events import AssignmentSignedOff, Envelope, WhistleCompleted, WhistleIssued
from shared.logging import get_logger

log = get_logger(__name__)

NOTES = {
    "dispatched": "sent to the responsible units",
    "in_progress": "a unit has signed off and is handling it",
    "resolved": "the responsible unit reported it resolved",
}


async def on_dispatch_event(
    session: AsyncSession, payload: WhistleIssued | AssignmentSignedOff | WhistleCompleted, envelope: Envelope
) -> None:
    complaint = await repository.get(session, payload.complaint_id, for_update=True)
    if complaint is None:
        log.warning("intake.unknown_complaint", complaint_id=payload.complaint_id)
        return
    status = next_status(complaint.status, envelope.type)
    if status is None:
        return
    unit = getattr(payload, "unit_code", None)
    await repository.set_status(
        session, complaint.id, status, at=envelope.occurred_at, unit_code=unit, note=NOTES[status]
    )
    log.info("intake.status_changed", complaint_id=complaint.id, status=status)


HANDLERS = {
    "whistle.issued": on_dispatch_event,
    "assignment.signed_off": on_dispatch_event,
    "whistle.completed": on_dispatch_event,
}
