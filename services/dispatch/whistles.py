"""Issuing whistles: for a received complaint, again for a reopened one (superseding the open round),
and a street's own whistle (吹哨). Who is summoned is decided in `summons` and `shared.routing`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatch import community_summons, metrics, summons
from services.dispatch.announcements import assignment_fields
from services.dispatch.lifecycle import QUEUED, WHISTLE_OPEN, WHISTLE_SUPERSEDED, WITHDRAWN
from services.dispatch.models import Assignment
from services.dispatch.repository import extensions as extension_rows
from services.dispatch.repository import signals
from services.dispatch.repository import whistles as whistle_rows
from shared.city_index import CityIndex
from shared.errors import Unprocessable
from shared.events import (
    AssignmentClosed,
    AssignmentRef,
    ComplaintReceived,
    ComplaintReopened,
    DispatchRefusedPushdown,
    WhistleIssued,
    WhistleKind,
    WhistleSuperseded,
    utcnow,
)
from shared.logging import get_logger
from shared.messaging_tables import Outbox
from shared.routing import CO, Target, route

log = get_logger(__name__)

Complaint = ComplaintReceived | ComplaintReopened


@dataclass(frozen=True)
class Summons:
    """A whistle about to be issued: for which complaint, about what, where, and whom it summons."""

    complaint_id: str
    round: int
    category: str
    urgency: str
    street_code: str
    district_code: str
    kind: WhistleKind
    targets: Sequence[Target]
    reasons: Sequence[str]
    extra: dict[str, Any] = field(default_factory=dict)
    """Further whistle columns (a street's own whistle: description, location, reason, blown_by)."""


async def issue(session: AsyncSession, *, summons_: Summons, index: CityIndex, outbox: Outbox) -> str | None:
    """Write the whistle, its assignments and whistle.issued; None if that round already has one."""
    s, now = summons_, utcnow()
    whistle_id = str(uuid.uuid4())
    visit = summons.visit_required(index, category=s.category, urgency=s.urgency, kind=s.kind)
    whistle = dict(
        id=whistle_id,
        complaint_id=s.complaint_id,
        round=s.round,
        kind=s.kind,
        category=s.category,
        urgency=s.urgency,
        district_code=s.district_code,
        street_code=s.street_code,
        status=WHISTLE_OPEN,
        reasons=list(s.reasons),
        visit_required=visit,
        snapshot_version=index.version,
        issued_at=now,
        **s.extra,
    )
    if not await whistle_rows.insert_whistle(session, whistle):
        return None
    refs = [
        AssignmentRef(
            assignment_id=str(uuid.uuid4()),
            unit_code=t.unit_code,
            department_code=t.department_code,
            role=t.role,
        )
        for t in s.targets
    ]
    await whistle_rows.insert_assignments(
        session,
        [
            dict(
                id=r.assignment_id,
                whistle_id=whistle_id,
                complaint_id=s.complaint_id,
                unit_code=r.unit_code,
                department_code=r.department_code,
                role=r.role,
                position=i,
                status=QUEUED,
                queued_at=now,
            )
            for i, r in enumerate(refs)
        ],
    )
    await signals.work_queued(session, (r.department_code for r in refs))
    issued = WhistleIssued(
        whistle_id=whistle_id,
        complaint_id=s.complaint_id,
        category=s.category,
        urgency=s.urgency,
        street_code=s.street_code,
        issued_at=now,
        assignments=refs,
        reasons=list(s.reasons),
        kind=s.kind,
        district_code=s.district_code,
        round=s.round,
        parent_whistle_id=s.extra.get("parent_whistle_id"),
        visit_required=visit,
    )
    await outbox.add(session, issued, correlation_id=s.complaint_id)
    log.info(
        "dispatch.whistle_issued",
        whistle_id=whistle_id,
        complaint_id=s.complaint_id,
        kind=s.kind,
        units=[r.unit_code for r in refs],
    )
    metrics.note_issued(s.kind, s.district_code)
    return whistle_id


async def dispatch_complaint(
    *, session: AsyncSession, complaint: Complaint, index: CityIndex, outbox: Outbox, round: int = 1
) -> str | None:
    """Issue the whistle of a round for a complaint; None if that round already has one."""
    decision = route(
        index,
        category=complaint.category,
        street_code=complaint.street_code,
        community_code=complaint.community_code,
    )
    whistle_id = await issue(
        session,
        summons_=Summons(
            complaint_id=complaint.complaint_id,
            round=round,
            category=complaint.category,
            urgency=complaint.urgency,
            street_code=complaint.street_code,
            district_code=complaint.district_code,
            kind=summons.whistle_kind(decision),
            targets=decision.targets,
            reasons=decision.reasons,
            extra=dict(community_code=complaint.community_code),
        ),
        index=index,
        outbox=outbox,
    )
    if whistle_id is not None and decision.refused_pushdown:
        await _audit_refusal(
            session, outbox, complaint, "; ".join(decision.reasons), index.version, decision.refused_to
        )
    if whistle_id is not None:
        received_at = complaint.received_at if isinstance(complaint, ComplaintReceived) else complaint.at
        metrics.note_dispatched(summons.whistle_kind(decision), received_at)
    return whistle_id


async def _audit_refusal(
    session: AsyncSession, outbox: Outbox, complaint: Complaint, reason: str, version: int, level: str
) -> None:
    """A matter off the street (or community) duty list that a rule would have pushed down to the
    street (or a community committee): audited and announced."""
    now = utcnow()
    kind = "community_pushdown" if level == "community" else "pushdown"
    values = dict(
        complaint_id=complaint.complaint_id, category=complaint.category, street_code=complaint.street_code
    )
    await whistle_rows.insert_refusal(
        session,
        dict(
            values,
            kind=kind,
            community_code=complaint.community_code if level == "community" else None,
            reason=reason,
            snapshot_version=version,
            at=now,
        ),
    )
    await outbox.add(
        session,
        DispatchRefusedPushdown(
            **values, reason=reason, at=now, level="community" if level == "community" else "street"
        ),
        correlation_id=complaint.complaint_id,
    )
    log.warning(
        "dispatch.pushdown_refused",
        complaint_id=complaint.complaint_id,
        category=complaint.category,
        level=level,
    )
    metrics.REFUSED.labels(kind).inc()


async def redispatch_reopened(
    *, session: AsyncSession, complaint: ComplaintReopened, index: CityIndex, outbox: Outbox
) -> str | None:
    """A reopened complaint is handled again: its open round is superseded (its open assignments
    withdrawn) and a new round issued."""
    open_whistles, latest = await whistle_rows.open_whistles_for_update(session, complaint.complaint_id)
    ids = [w.id for w in open_whistles]
    await end_open_assignments(
        session,
        outbox,
        await whistle_rows.open_assignments_of(session, ids),
        status=WITHDRAWN,
        at=complaint.at,
    )
    await whistle_rows.end_whistles(session, ids, status=WHISTLE_SUPERSEDED, at=complaint.at)
    for whistle in open_whistles:
        await outbox.add(
            session,
            WhistleSuperseded(whistle_id=whistle.id, complaint_id=whistle.complaint_id, at=complaint.at),
            correlation_id=whistle.complaint_id,
        )
    return await dispatch_complaint(
        session=session, complaint=complaint, index=index, outbox=outbox, round=latest + 1
    )


async def end_open_assignments(
    session: AsyncSession, outbox: Outbox, assignments: Sequence[Assignment], *, status: str, at: datetime
) -> None:
    """Close open assignments without an answer of their own (not_needed, withdrawn): each
    announced, its lease ended and its pending extension request lapsed."""
    for a in assignments:
        a.status, a.closed_at = status, at
        a.worker = a.lease_expires_at = None
        await outbox.add(
            session,
            AssignmentClosed(**assignment_fields(a, at=at), reason=status),
            correlation_id=a.complaint_id,
        )
    await extension_rows.lapse_pending(session, [a.id for a in assignments], at=at)


# --- a street's own whistle (吹哨) ---


class StreetOwnWork(Unprocessable):
    """A street whistled departments for a matter on its own duty list: refused, and audited."""


async def blow(
    session: AsyncSession,
    *,
    street_code: str,
    category: str,
    urgency: str | None,
    departments: Sequence[str],
    extra: dict[str, Any],
    index: CityIndex,
    outbox: Outbox,
    communities: Sequence[str] = (),
) -> str:
    """Issue a street's own whistle (a complaint id of its own); StreetOwnWork for its own work,
    `community_summons.OffCommunityList` for a matter handed to committees that is not theirs."""
    if category not in index.categories:
        raise Unprocessable(
            f"unknown category {category!r}",
            errors=[{"field": "body.category", "message": "unknown category", "type": "unknown"}],
        )
    committees = community_summons.committee_targets(
        index, category=category, street_code=street_code, communities=communities
    )
    try:
        targets, reasons = (
            summons.street_whistle_targets(
                index, category=category, street_code=street_code, departments=departments
            )
            if departments or not committees
            else ((), ())
        )
    except Unprocessable as exc:
        if exc.errors and exc.errors[0].get("type") == "duty_list":
            raise StreetOwnWork(exc.detail, errors=exc.errors) from None
        raise
    if committees:
        # One unit answers a whistle: the first committee when the street names no department,
        # otherwise the committees help (co) the lead department.
        targets = (
            *targets,
            *(Target(t.unit_code, None, CO if targets or i else t.role) for i, t in enumerate(committees)),
        )
        reasons = (*reasons, *(f"handed to committee {t.unit_code}" for t in committees))
    whistle_id = await issue(
        session,
        summons_=Summons(
            complaint_id=str(uuid.uuid4()),
            round=1,
            category=category,
            urgency=urgency or index.categories[category].urgency,
            street_code=street_code,
            district_code=index.street_district[street_code],
            kind="street_whistle",
            targets=targets,
            reasons=(*reasons, f"street {street_code} blew its own whistle"),
            extra=extra,
        ),
        index=index,
        outbox=outbox,
    )
    assert whistle_id is not None  # a new complaint id has no whistle yet
    return whistle_id


async def audit_street_refusal(
    session: AsyncSession, *, street_code: str, category: str, client_id: str, reason: str, version: int
) -> None:
    """Audit a refused street whistle (in a transaction of its own: the request's rolls back)."""
    await whistle_rows.insert_refusal(
        session,
        dict(
            kind="street_whistle",
            complaint_id=None,
            client_id=client_id,
            category=category,
            street_code=street_code,
            reason=reason,
            snapshot_version=version,
            at=utcnow(),
        ),
    )
    log.warning("dispatch.street_whistle_refused", street_code=street_code, category=category)
    metrics.REFUSED.labels("street_whistle").inc()
