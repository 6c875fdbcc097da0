"""What a unit does with an assignment: sign off (签收), report in (报到), report back (反馈), return
(退单, re-routed in `rerouting`), ask for more time (延期), release a claim.

Every action runs the same steps: load the assignment locked (actions that touch the whistle lock
the whistle first, always in that order, so two actions on one whistle never deadlock), check the
caller may act for its unit (403), check the lease (`leases`: 409 naming the holder), check the
state machine (`lifecycle`: 409 with the status and the actions allowed now), apply, announce.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatch import extensions, lifecycle, metrics, rerouting, returns
from services.dispatch.announcements import assignment_fields
from services.dispatch.leases import HeldByAnother, Lease, lease_after
from services.dispatch.lifecycle import (
    CONTACTED,
    NOT_NEEDED,
    ON_SITE,
    WHISTLE_COMPLETED,
    WHISTLE_OPEN,
    AssignmentView,
    InvalidTransition,
)
from services.dispatch.models import Assignment, ExtensionRequest, Whistle
from services.dispatch.repository import assignments as assignment_rows
from services.dispatch.repository import extensions as extension_rows
from services.dispatch.repository import signals
from services.dispatch.repository import whistles as whistle_rows
from services.dispatch.whistles import end_open_assignments
from shared.access import Principal
from shared.city import CityData
from shared.city_index import CityIndex
from shared.errors import Conflict, Forbidden, NotFound, Unprocessable
from shared.events import (
    AssignmentReportedBack,
    AssignmentReportedIn,
    AssignmentReturned,
    AssignmentSignedOff,
    WhistleCompleted,
    utcnow,
)
from shared.logging import get_logger
from shared.messaging_tables import Outbox

log = get_logger(__name__)

CLOCK_SKEW = timedelta(seconds=60)


@dataclass(frozen=True)
class Actor:
    """Who acts: the client, the worker it names (if any), and which assignments it may act on."""

    principal: Principal
    worker: str | None
    may_act: Callable[[Assignment], bool]


@dataclass(frozen=True)
class Work:
    """What an action needs besides the request: the city copy and the outbox."""

    index: CityIndex
    outbox: Outbox

    @property
    def city(self) -> CityData:
        return self.index.city


def view_of(a: Assignment) -> AssignmentView:
    kinds = frozenset(k for k, at in ((CONTACTED, a.contacted_at), (ON_SITE, a.on_site_at)) if at is not None)
    return AssignmentView(role=a.role, status=a.status, reported_in=kinds)


def lease_of(a: Assignment) -> Lease:
    return Lease(a.worker, a.lease_expires_at, a.lease_seconds)


async def _take(
    session: AsyncSession, assignment_id: str, action: str, actor: Actor, *, kind: str | None = None
) -> tuple[Assignment, str, datetime]:
    """The assignment, locked and checked for `action`; its status after; the time of the action.
    The lease moves as the action says (renewed, taken or ended)."""
    assignment = await assignment_rows.assignment_for_update(session, assignment_id)
    if assignment is None:
        raise NotFound(f"no assignment {assignment_id}")
    if not actor.may_act(assignment):
        raise Forbidden(f"this client may not act for {assignment.unit_code}")
    now = utcnow()
    try:
        lease = lease_after(action, lease_of(assignment), worker=actor.worker, now=now)
        status = lifecycle.transition(view_of(assignment), action, kind=kind)
    except HeldByAnother as exc:
        raise Conflict(
            str(exc),
            holder=exc.holder,
            lease_expires_at=exc.expires_at.isoformat(),
            status_now=assignment.status,
        ) from None
    except InvalidTransition as exc:
        raise Conflict(
            str(exc), status_now=exc.status, allowed_actions=[lifecycle.api_name(a) for a in exc.allowed]
        ) from None
    assignment.worker, assignment.lease_expires_at, assignment.lease_seconds = (
        lease.worker,
        lease.expires_at,
        lease.seconds if lease.worker else assignment.lease_seconds,
    )
    return assignment, status, now


async def _take_with_whistle(
    session: AsyncSession, assignment_id: str, action: str, actor: Actor
) -> tuple[Whistle, Assignment, str, datetime]:
    whistle_id = await assignment_rows.whistle_id_of(session, assignment_id)
    if whistle_id is None:
        raise NotFound(f"no assignment {assignment_id}")
    whistle = await whistle_rows.whistle_for_update(session, whistle_id)
    assert whistle is not None
    assignment, status, now = await _take(session, assignment_id, action, actor)
    return whistle, assignment, status, now


async def sign_off(session: AsyncSession, *, assignment_id: str, actor: Actor, work: Work) -> Assignment:
    """A worker of the assigned unit takes the order (签收)."""
    a, status, now = await _take(session, assignment_id, "sign_off", actor)
    a.status, a.signed_off_at = status, now
    await _announce_signed_off(session, a, now, work.outbox)
    return a


async def announce_signed_off(
    session: AsyncSession, claimed: Sequence[Assignment], *, outbox: Outbox, now: datetime
) -> None:
    """签收 on claiming: the claim signed off the orders that were still queued (their
    `signed_off_at` is the claim's `now`; orders signed off before, offered again after a lease ran
    out, stay as they were). Announce those."""
    for a in claimed:
        if a.status == lifecycle.SIGNED_OFF and a.signed_off_at == now:
            await _announce_signed_off(session, a, now, outbox)


async def _announce_signed_off(session: AsyncSession, a: Assignment, now: datetime, outbox: Outbox) -> None:
    await outbox.add(
        session, AssignmentSignedOff(**assignment_fields(a, at=now)), correlation_id=a.complaint_id
    )
    log.info("dispatch.assignment_signed_off", assignment_id=a.id, unit=a.unit_code)
    metrics.note_signed_off(a.department_code, a.role, queued_at=a.queued_at, at=now)


async def report_in(
    session: AsyncSession,
    *,
    assignment_id: str,
    kind: str,
    at: datetime | None,
    note: str,
    actor: Actor,
    work: Work,
) -> Assignment:
    """报到: the unit contacted the resident or is on site (`at`: when, default now)."""
    a, status, now = await _take(session, assignment_id, "report_in", actor, kind=kind)
    when = at or now
    if when > now + CLOCK_SKEW or when < a.queued_at:
        raise Unprocessable(
            "The report-in time is not valid.",
            errors=[
                {"field": "body.at", "message": "between when the order was queued and now", "type": "range"}
            ],
        )
    a.status, a.reported_in_at = status, a.reported_in_at or when
    if kind == CONTACTED:
        a.contacted_at = when
    else:
        a.on_site_at = when
    a.report_in_note = note or a.report_in_note
    event = AssignmentReportedIn(**assignment_fields(a, at=when), kind=kind)
    await work.outbox.add(session, event, correlation_id=a.complaint_id)
    log.info("dispatch.assignment_reported_in", assignment_id=a.id, unit=a.unit_code, kind=kind)
    return a


async def report_back(
    session: AsyncSession, *, assignment_id: str, result: str, note: str, actor: Actor, work: Work
) -> Assignment:
    """The unit reports its result (反馈); the answering unit's report completes the whistle and
    closes the co-departments' open assignments as not needed."""
    whistle, a, status, now = await _take_with_whistle(session, assignment_id, "report_back", actor)
    a.status, a.reported_back_at, a.result, a.note = status, now, result, note
    event = AssignmentReportedBack(**assignment_fields(a, at=now), result=result)
    await work.outbox.add(session, event, correlation_id=a.complaint_id)
    await extension_rows.lapse_pending(session, [a.id], at=now)
    if whistle.status == WHISTLE_OPEN and lifecycle.answers(a.role):
        siblings = await whistle_rows.assignments_of(session, whistle.id, lock=True)
        still_open = [s for s in siblings if lifecycle.is_open(s.status)]
        await end_open_assignments(session, work.outbox, still_open, status=NOT_NEEDED, at=now)
        whistle.status, whistle.completed_at = WHISTLE_COMPLETED, now
        completed = WhistleCompleted(
            whistle_id=whistle.id,
            complaint_id=whistle.complaint_id,
            result=result,
            at=now,
            unit_code=a.unit_code,
        )
        await work.outbox.add(session, completed, correlation_id=whistle.complaint_id)
        log.info("dispatch.whistle_completed", whistle_id=whistle.id, result=result, closed=len(still_open))
    return a


async def return_order(
    session: AsyncSession, *, assignment_id: str, reason: str, note: str, actor: Actor, work: Work
) -> Assignment:
    """退单: the unit sends the order back; it is re-routed (`rerouting`)."""
    whistle, a, status, now = await _take_with_whistle(session, assignment_id, "return", actor)
    returns.check_may_return(role=a.role, category=whistle.category, city=work.city)
    a.status, a.returned_at, a.return_reason, a.return_note = status, now, reason, note
    await extension_rows.lapse_pending(session, [a.id], at=now)
    returned = await assignment_rows.returned_units(session, a.complaint_id)
    event = AssignmentReturned(**assignment_fields(a, at=now), reason=reason, returns=len(returned))
    await work.outbox.add(session, event, correlation_id=a.complaint_id)
    log.info("dispatch.assignment_returned", assignment_id=a.id, unit=a.unit_code, reason=reason)
    metrics.note_returned(a.department_code, a.role, reason)
    if whistle.status == WHISTLE_OPEN:
        await rerouting.reroute(
            session,
            whistle=whistle,
            returned=a,
            returned_units=returned,
            index=work.index,
            outbox=work.outbox,
        )
    return a


async def release(session: AsyncSession, *, assignment_id: str, actor: Actor) -> Assignment:
    """The worker gives a claimed order back to the department's queue (offered again at once)."""
    a, _, _ = await _take(session, assignment_id, "release", actor)
    await signals.work_queued(session, [a.department_code])
    return a


async def request_extension(
    session: AsyncSession,
    *,
    assignment_id: str,
    working_days: int | None,
    until: datetime | None,
    reason: str,
    actor: Actor,
    work: Work,
) -> tuple[Assignment, ExtensionRequest]:
    """延期: the unit asks for more time; the street or the district decides (`approvals`)."""
    a, _, now = await _take(session, assignment_id, "extension", actor)
    pending = await extension_rows.pending_for(session, a.id)
    if pending is not None:
        raise Conflict("a request for more time is already pending", extension_id=pending.id)
    whistle = await whistle_rows.whistle(session, a.whistle_id)
    assert whistle is not None
    calendar = work.city.work_calendar()
    approved = [
        extensions.Extension(r.working_days, r.until)
        for r in await extension_rows.approved_for(session, a.id)
    ]
    deadline = extensions.current_deadline(
        queued_at=a.queued_at,
        policy=work.city.policies_at(whistle.issued_at).sla[whistle.urgency],  # type: ignore[index]
        calendar=calendar,
        approved=approved,
    )
    asked = extensions.check_request(
        working_days=working_days, until=until, reason=reason, now=now, deadline=deadline
    )
    request = ExtensionRequest(
        id=str(uuid.uuid4()),
        assignment_id=a.id,
        whistle_id=a.whistle_id,
        complaint_id=a.complaint_id,
        unit_code=a.unit_code,
        department_code=a.department_code,
        street_code=whistle.street_code,
        district_code=whistle.district_code,
        status=extensions.PENDING,
        working_days=asked.working_days,
        until=asked.until,
        reason=reason,
        requested_by=actor.principal.client_id,
        worker=actor.worker,
        requested_at=now,
    )
    extension_rows.add(session, request)
    await session.flush()
    log.info("dispatch.extension_requested", assignment_id=a.id, extension_id=request.id)
    return a, request
