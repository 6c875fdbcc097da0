"""The follow-up call (回访): it closes a resolved complaint or reopens the matter for a new round,
and answers a resident's request for a follow-up (the flag an Open311 update may have set).

A complaint merged into another is the same matter: its resident's dissatisfaction reopens the
original (which dispatch knows), and every complaint following it is answered again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import repository, timeline_repository
from services.intake.context import IntakeContext
from services.intake.models import Complaint, Feedback
from services.intake.repository import Entry
from services.intake.schemas import FeedbackIn
from services.intake.status import KIND_OF_STATUS, after_feedback, can_reopen_matter, resident_note
from shared.errors import NotFound
from shared.events import ComplaintClosed, ComplaintFeedbackRecorded, ComplaintReopened, utcnow
from shared.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class FollowUp:
    complaint: Complaint
    feedback: Feedback
    reopened_complaint_id: str | None


async def record_feedback(
    *, session: AsyncSession, ctx: IntakeContext, complaint_id: str, body: FeedbackIn, recorded_by: str | None
) -> FollowUp:
    complaint = await repository.get(session, complaint_id, for_update=True)
    if complaint is None:
        raise NotFound(f"no complaint {complaint_id}")
    if complaint.status != "resolved":
        latest = await repository.latest_feedback(session, complaint.id)
        if latest is not None and (latest.resolved, latest.satisfaction, latest.comment) == (
            body.resolved,
            body.satisfaction,
            body.comment,
        ):
            return FollowUp(complaint, latest, None)  # the same call, sent again
    new_status = after_feedback(complaint.status, resolved=body.resolved, satisfaction=body.satisfaction)
    now = utcnow()
    feedback = repository.add_feedback(
        session,
        complaint_id=complaint.id,
        round=complaint.round,
        resolved=body.resolved,
        satisfaction=body.satisfaction,
        comment=body.comment,
        recorded_by=recorded_by,
        at=now,
    )
    await ctx.outbox.add(
        session,
        ComplaintFeedbackRecorded(
            complaint_id=complaint.id,
            category=complaint.category,
            street_code=complaint.street_code,
            resolved=body.resolved,
            satisfaction=body.satisfaction,
            at=now,
        ),
        correlation_id=complaint.merged_into or complaint.id,
    )
    if complaint.followup_requested_at is not None:
        await repository.set_followup_requested(session, complaint.id, None)
    reopened: str | None = None
    if new_status == "closed":
        await _set_status(session, complaint, "closed", at=now, note=resident_note("closed"))
        await ctx.outbox.add(
            session, ComplaintClosed(complaint_id=complaint.id, at=now), correlation_id=complaint.id
        )
    else:
        reason = ", ".join(
            why
            for why, bad in (
                ("unresolved", not body.resolved),
                ("unsatisfied", body.satisfaction == "unsatisfied"),
            )
            if bad
        )
        reopened = await _reopen_matter(session, ctx, complaint, reason=reason, at=now)
    await session.flush()
    log.info("intake.feedback_recorded", complaint_id=complaint.id, status=new_status, reopened=reopened)
    refreshed = await repository.get(session, complaint.id)
    assert refreshed is not None
    return FollowUp(refreshed, feedback, reopened)


async def _reopen_matter(
    session: AsyncSession, ctx: IntakeContext, complaint: Complaint, *, reason: str, at: datetime
) -> str | None:
    """Reopen the matter the complaint belongs to; the id reopened, None if it is already open."""
    root = complaint
    if complaint.merged_into is not None:
        found = await repository.get(session, complaint.merged_into, for_update=True)
        root = found if found is not None else complaint
        if not can_reopen_matter(root.status):  # already being handled again: follow it
            view = ctx.view_or_none()
            unit = view.unit_name(root.lead_unit_code) if view else root.lead_unit_code
            note = resident_note(root.status, unit)
            await _set_status(session, complaint, root.status, at=at, note=note, kind="reopened")
            return None
    if root is not complaint:
        reason = f"{reason} (a merged complaint's follow-up)"
    await repository.update_complaint(
        session, root.id, round=root.round + 1, whistle_id=None, expected_at=None
    )
    await _set_status(session, root, "reopened", at=at, note=resident_note("reopened"))
    for child in await repository.merged_into(session, root.id, for_update=True):
        if child.status != "closed":
            await repository.update_complaint(session, child.id, round=child.round + 1, expected_at=None)
            await _set_status(session, child, "reopened", at=at, note=resident_note("reopened"))
    await ctx.outbox.add(
        session,
        ComplaintReopened(
            complaint_id=root.id,
            category=root.category,
            urgency=root.urgency,
            district_code=root.district_code,
            street_code=root.street_code,
            community_code=root.community_code,
            reason=reason,
            at=at,
        ),
        correlation_id=root.id,
    )
    return root.id


async def _set_status(
    session: AsyncSession,
    complaint: Complaint,
    status: str,
    *,
    at: datetime,
    note: str,
    kind: str | None = None,
) -> None:
    await repository.update_complaint(session, complaint.id, status=status, updated_at=at)
    entry = Entry(status, kind or KIND_OF_STATUS[status], at, None, note)
    timeline_repository.add_entry(session, complaint.id, entry)
