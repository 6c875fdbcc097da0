"""Deciding a request for more time: the handling street or the district command centre approves
(→ assignment.extended, which SLA applies to the clocks) or rejects it (rules in `extensions`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatch.announcements import assignment_fields
from services.dispatch.extensions import APPROVED, PENDING, REJECTED
from services.dispatch.lifecycle import is_open
from services.dispatch.models import ExtensionRequest
from services.dispatch.repository import assignments as assignment_rows
from services.dispatch.repository import extensions as extension_rows
from shared.access import Principal, may_decide_extension
from shared.errors import Conflict, Forbidden, NotFound
from shared.events import AssignmentExtended, utcnow
from shared.logging import get_logger
from shared.messaging_tables import Outbox
from shared.routing import STREET

log = get_logger(__name__)


async def decide(
    session: AsyncSession,
    *,
    extension_id: str,
    approve: bool,
    note: str,
    principal: Principal,
    outbox: Outbox,
) -> ExtensionRequest:
    """Approve or reject a pending request; 409 once it was decided (or lapsed)."""
    request = await extension_rows.request(session, extension_id, lock=True)
    if request is None:
        raise NotFound(f"no extension request {extension_id}")
    assignment = await assignment_rows.assignment_for_update(session, request.assignment_id)
    assert assignment is not None
    decision = may_decide_extension(
        principal,
        street_code=request.street_code,
        district_code=request.district_code,
        street_unit=assignment.role == STREET,
    )
    if not decision.granted:
        raise Forbidden(decision.reason)
    if request.status != PENDING:
        raise Conflict(f"this request is already {request.status}", status_now=request.status)
    now = utcnow()
    if approve and not is_open(assignment.status):
        raise Conflict(f"the assignment is {assignment.status}: nothing is left to extend")
    request.status = APPROVED if approve else REJECTED
    request.decided_by, request.decided_at, request.decision_note = principal.client_id, now, note
    if approve:
        extended = AssignmentExtended(
            **assignment_fields(assignment, at=now),
            extension_id=request.id,
            working_days=request.working_days,
            until=request.until,
            approved_by=principal.client_id,
        )
        await outbox.add(session, extended, correlation_id=assignment.complaint_id)
    log.info("dispatch.extension_decided", extension_id=request.id, status=request.status)
    return request
