"""Undoing a merge (an operator's decision): the complaint leaves the matter it was merged into and
is dispatched on its own."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import repository, timeline_repository
from services.intake.context import IntakeContext
from services.intake.filing import received
from services.intake.models import Complaint
from services.intake.repository import Entry
from services.intake.status import resident_note
from shared.errors import Conflict, NotFound
from shared.events import utcnow
from shared.logging import get_logger

log = get_logger(__name__)


async def undo_merge(*, session: AsyncSession, ctx: IntakeContext, complaint_id: str, by: str) -> Complaint:
    # Locks are taken original first, then the merged complaint: the order the event handlers
    # take them in (a matter, then those merged into it), so the two never deadlock.
    seen = await repository.get(session, complaint_id)
    original = None
    if seen is not None and seen.merged_into is not None:
        original = await repository.get(session, seen.merged_into, for_update=True)
    complaint = await repository.get(session, complaint_id, for_update=True)
    if complaint is None:
        raise NotFound(f"no complaint {complaint_id}")
    if complaint.merged_into is None or (original is not None and complaint.merged_into != original.id):
        raise Conflict(f"complaint {complaint_id} is not merged into another")
    if complaint.status == "closed":
        raise Conflict(f"complaint {complaint_id} is closed")
    now = utcnow()
    if original is not None:
        await repository.update_complaint(
            session, original.id, reporter_count=max(1, original.reporter_count - 1), updated_at=now
        )
    merge = await repository.active_merge(session, complaint.id)
    if merge is not None:
        merge.undone_at, merge.undone_by = now, by
    await repository.update_complaint(
        session,
        complaint.id,
        merged_into=None,
        status="received",
        whistle_id=None,
        lead_unit_code=None,
        expected_at=None,
        updated_at=now,
    )
    note = resident_note("received", detail="单独派办")
    timeline_repository.add_entry(session, complaint.id, Entry("received", "unmerged", now, None, note))
    event = received(complaint, at=now, snapshot_version=ctx.cache.version)
    await ctx.outbox.add(session, event, correlation_id=complaint.id)
    await session.flush()
    log.info("intake.merge_undone", complaint_id=complaint.id, by=by)
    refreshed = await repository.get(session, complaint.id)
    assert refreshed is not None
    return refreshed
