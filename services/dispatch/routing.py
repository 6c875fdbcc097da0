"""Dispatching a received complaint: route it and issue the whistle with its assignments."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatch import repository
from shared.city_index import CityIndex
from shared.events import (
    AssignmentRef,
    ComplaintReceived,
    ComplaintReopened,
    DispatchRefusedPushdown,
    WhistleIssued,
    utcnow,
)
from shared.logging import get_logger
from shared.messaging_tables import Outbox
from shared.routing import RouteDecision, route

log = get_logger(__name__)


Complaint = ComplaintReceived | ComplaintReopened


async def dispatch_complaint(
    *,
    session: AsyncSession,
    complaint: Complaint,
    index: CityIndex,
    outbox: Outbox,
    round: int = 1,
) -> str | None:
    """Issue the whistle of a round for a complaint; None if that round already has one."""
    decision = route(index, category=complaint.category, street_code=complaint.street_code)
    now = utcnow()
    whistle_id = str(uuid.uuid4())
    whistle = dict(
        id=whistle_id,
        complaint_id=complaint.complaint_id,
        round=round,
        category=complaint.category,
        urgency=complaint.urgency,
        district_code=complaint.district_code,
        street_code=complaint.street_code,
        status="open",
        reasons=list(decision.reasons),
        snapshot_version=index.version,
        issued_at=now,
    )
    if not await repository.insert_whistle(session, whistle):
        return None
    assignments = await _queue_assignments(session, complaint, whistle_id, decision, now)
    if decision.refused_pushdown:
        await _audit_refusal(session, outbox, complaint, "; ".join(decision.reasons), index.version, now)
    issued = WhistleIssued(
        whistle_id=whistle_id,
        complaint_id=complaint.complaint_id,
        category=complaint.category,
        urgency=complaint.urgency,
        street_code=complaint.street_code,
        issued_at=now,
        assignments=assignments,
        reasons=list(decision.reasons),
    )
    await outbox.add(session, issued, correlation_id=complaint.complaint_id)
    log.info(
        "dispatch.whistle_issued",
        whistle_id=whistle_id,
        complaint_id=complaint.complaint_id,
        units=[a.unit_code for a in assignments],
    )
    return whistle_id


async def _queue_assignments(
    session: AsyncSession, complaint: Complaint, whistle_id: str, decision: RouteDecision, now: datetime
) -> list[AssignmentRef]:
    """One assignment per unit the whistle summons, queued for its department or street."""
    assignments = [
        AssignmentRef(
            assignment_id=str(uuid.uuid4()),
            unit_code=t.unit_code,
            department_code=t.department_code,
            role=t.role,
        )
        for t in decision.targets
    ]
    rows = [
        dict(
            id=a.assignment_id,
            whistle_id=whistle_id,
            complaint_id=complaint.complaint_id,
            unit_code=a.unit_code,
            department_code=a.department_code,
            role=a.role,
            position=i,
            status="queued",
            queued_at=now,
        )
        for i, a in enumerate(assignments)
    ]
    await repository.insert_assignments(session, rows)
    return assignments


async def _audit_refusal(
    session: AsyncSession, outbox: Outbox, complaint: Complaint, reason: str, version: int, now: datetime
) -> None:
    """A matter off the street duty list that a rule would have pushed down: audited and announced."""
    values = dict(
        complaint_id=complaint.complaint_id, category=complaint.category, street_code=complaint.street_code
    )
    await repository.insert_refusal(session, dict(values, reason=reason, snapshot_version=version, at=now))
    await outbox.add(
        session,
        DispatchRefusedPushdown(**values, reason=reason, at=now),
        correlation_id=complaint.complaint_id,
    )
    log.warning("dispatch.pushdown_refused", complaint_id=complaint.complaint_id, category=complaint.category)


async def redispatch_reopened(
    *, session: AsyncSession, complaint: ComplaintReopened, index: CityIndex, outbox: Outbox
) -> str | None:
    """A reopened complaint is handled again: its open whistles are closed and a new round issued."""
    latest = await repository.close_open_whistles(session, complaint.complaint_id, at=complaint.at)
    return await dispatch_complaint(
        session=session, complaint=complaint, index=index, outbox=outbox, round=latest + 1
    )
