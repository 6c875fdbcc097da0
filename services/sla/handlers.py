"""SLA's reactions to dispatch and intake events: one line each, into `timekeeping` and `follow_ups`.

`replay_table` adds the warnings and breaches SLA emitted itself, read back while rebuilding."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from services.sla.follow_ups import FollowUps
from services.sla.timekeeping import EventSink, Timekeeper
from services.sla.timers import note_fired
from shared.consumer import Delivery, HandlerTable
from shared.events import (
    AssignmentClosed,
    AssignmentExtended,
    AssignmentQueued,
    AssignmentReportedBack,
    AssignmentReportedIn,
    AssignmentRerouted,
    AssignmentReturned,
    AssignmentSignedOff,
    ClockBreached,
    ClockWarning,
    ComplaintClosed,
    ComplaintFeedbackRecorded,
    ComplaintMerged,
    Envelope,
    WhistleCompleted,
    WhistleIssued,
    WhistleSuperseded,
)
from shared.snapshot_cache import SnapshotCache


class SlaHandlers:
    def __init__(self, cache: SnapshotCache, events: EventSink) -> None:
        self.cache = cache
        self.keeper = Timekeeper(cache, events)
        self.follow_ups = FollowUps(self.keeper)

    async def prepare(self, batch: Sequence[Delivery]) -> None:
        """Before the batch's transaction: a whistle is timed by the policy in force when it was
        issued, so a copy of the registry not confirmed current since then is refreshed first (a
        policy put in just before). The registry being away is transient: the batch waits."""
        self.cache.require()
        checked = self.cache.checked_at
        if any(
            isinstance(d.payload, WhistleIssued) and (checked is None or checked < d.payload.issued_at)
            for d in batch
        ):
            await self.cache.refresh()

    async def on_whistle_issued(self, session: AsyncSession, e: WhistleIssued, _: Envelope) -> None:
        await self.keeper.whistle_issued(session, e)
        await self.follow_ups.caught_up(session, e.complaint_id, e.issued_at)

    async def on_queued(self, session: AsyncSession, e: AssignmentQueued, _: Envelope) -> None:
        await self.keeper.assignment_queued(session, e)

    async def on_signed_off(self, session: AsyncSession, e: AssignmentSignedOff, _: Envelope) -> None:
        await self.keeper.stop_stages(session, e, stages=["sign_off"], cause="done", reason="signed off")

    async def on_reported_in(self, session: AsyncSession, e: AssignmentReportedIn, _: Envelope) -> None:
        stages = ["sign_off", "contact"] if e.kind == "contacted" else ["sign_off", "contact", "report_in"]
        await self.keeper.stop_stages(
            session, e, stages=stages, cause="done", reason=f"reported in ({e.kind})"
        )

    async def on_reported_back(self, session: AsyncSession, e: AssignmentReportedBack, _: Envelope) -> None:
        await self.keeper.stop_stages(
            session, e, stages=None, cause="done", reason=f"reported back ({e.result})", with_resolve=True
        )

    async def on_returned(self, session: AsyncSession, e: AssignmentReturned, _: Envelope) -> None:
        await self.keeper.stop_stages(
            session, e, stages=None, cause="returned", reason=e.reason, with_resolve=True
        )

    async def on_rerouted(self, session: AsyncSession, e: AssignmentRerouted, _: Envelope) -> None:
        await self.keeper.rerouted(session, e)

    async def on_extended(self, session: AsyncSession, e: AssignmentExtended, _: Envelope) -> None:
        await self.keeper.extended(session, e)

    async def on_closed(self, session: AsyncSession, e: AssignmentClosed, _: Envelope) -> None:
        await self.keeper.stop_stages(
            session, e, stages=None, cause="cancelled", reason=f"assignment {e.reason}"
        )

    async def on_completed(self, session: AsyncSession, e: WhistleCompleted, _: Envelope) -> None:
        await self.keeper.end_whistle(
            session,
            e.whistle_id,
            status="completed",
            reason="whistle completed",
            at=e.at,
            answered_by=e.unit_code,
        )

    async def on_superseded(self, session: AsyncSession, e: WhistleSuperseded, _: Envelope) -> None:
        await self.keeper.end_whistle(
            session, e.whistle_id, status="superseded", reason="reopened round superseded", at=e.at
        )

    async def on_feedback(self, session: AsyncSession, e: ComplaintFeedbackRecorded, _: Envelope) -> None:
        await self.follow_ups.feedback(session, e)

    async def on_merged(self, session: AsyncSession, e: ComplaintMerged, _: Envelope) -> None:
        await self.follow_ups.merged(session, e)

    async def on_complaint_closed(self, session: AsyncSession, e: ComplaintClosed, _: Envelope) -> None:
        await self.follow_ups.closed(session, e)

    async def on_fired(self, session: AsyncSession, e: ClockWarning | ClockBreached, _: Envelope) -> None:
        await note_fired(session, self.keeper, e)

    def whistles_table(self) -> HandlerTable:
        return {
            WhistleIssued: self.on_whistle_issued,
            AssignmentQueued: self.on_queued,
            AssignmentSignedOff: self.on_signed_off,
            AssignmentReportedIn: self.on_reported_in,
            AssignmentReportedBack: self.on_reported_back,
            AssignmentReturned: self.on_returned,
            AssignmentRerouted: self.on_rerouted,
            AssignmentExtended: self.on_extended,
            AssignmentClosed: self.on_closed,
            WhistleCompleted: self.on_completed,
            WhistleSuperseded: self.on_superseded,
        }

    def complaints_table(self) -> HandlerTable:
        return {
            ComplaintFeedbackRecorded: self.on_feedback,
            ComplaintMerged: self.on_merged,
            ComplaintClosed: self.on_complaint_closed,
        }

    def table(self) -> HandlerTable:
        """Everything the live consumer handles (dispatch.whistles and intake.complaints)."""
        return {**self.whistles_table(), **self.complaints_table()}

    def replay_table(self) -> HandlerTable:
        """What a rebuild handles: the live table and SLA's own warnings and breaches."""
        return {**self.table(), ClockWarning: self.on_fired, ClockBreached: self.on_fired}
