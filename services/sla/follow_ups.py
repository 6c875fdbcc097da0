"""What the hotline's complaint events do to SLA (the services layer; only flushes).

complaint.feedback_recorded   the follow-up call (回访) counts for the unit that answered the
                              complaint's current round: resolved or not, and how satisfied
complaint.merged              a near-duplicate merged into another complaint: its running
                              clocks are cancelled and nothing of it counts (the other one does)
complaint.closed              nothing of the complaint keeps running

These come on intake's topic, the whistles on dispatch's: one may be read before the whistle it
concerns. So each is also kept as a fact of the complaint, and a whistle SLA meets afterwards takes
the facts that were there first (`caught_up`): the outcome does not depend on which topic was read
first, and a rebuild from the topics comes to the same state as the live consumer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.sla.repository import clocks as clock_rows
from services.sla.repository import measures
from services.sla.tallies import follow_up_outcomes
from services.sla.timekeeping import Timekeeper
from shared.events import ComplaintClosed, ComplaintFeedbackRecorded, ComplaintMerged
from shared.logging import get_logger

log = get_logger(__name__)


@dataclass
class FollowUps:
    keeper: Timekeeper

    async def feedback(self, session: AsyncSession, e: ComplaintFeedbackRecorded) -> None:
        whistle = await clock_rows.latest_whistle(session, e.complaint_id)
        if whistle is None or whistle.answering_unit is None:
            log.info("sla.feedback_held", complaint_id=e.complaint_id)
            await clock_rows.note_fact(session, e.complaint_id, feedback=e.model_dump(mode="json"))
            return
        owner = self.keeper.cache.require().index.owners.get(whistle.answering_unit)
        merged = f"merged duplicate (into {whistle.merged_into})" if whistle.merged_into else ""
        await measures.put(
            session,
            [
                dict(
                    key=f"{whistle.whistle_id}:{measure}", measure=measure, outcome=outcome,
                    counted=not merged, reason=merged or "follow-up call", at=e.at,
                    unit_code=whistle.answering_unit, department_code=whistle.answering_department,
                    owner_street=owner.street_code if owner else None, street_code=whistle.street_code,
                    district_code=whistle.district_code, complaint_id=e.complaint_id,
                    whistle_id=whistle.whistle_id, assignment_id=None, clock_id=None,
                )
                for measure, outcome in follow_up_outcomes(resolved=e.resolved, satisfaction=e.satisfaction)
            ],
        )  # fmt: skip

    async def merged(self, session: AsyncSession, e: ComplaintMerged) -> None:
        await clock_rows.note_fact(session, e.complaint_id, merged_into=e.into_complaint_id, merged_at=e.at)
        await self._merge(session, e.complaint_id, e.into_complaint_id, e.at)

    async def closed(self, session: AsyncSession, e: ComplaintClosed) -> None:
        await clock_rows.note_fact(session, e.complaint_id, closed_at=e.at)
        await self._cancel(session, e.complaint_id, reason="complaint closed", at=e.at)

    async def caught_up(self, session: AsyncSession, complaint_id: str, issued_at: datetime) -> None:
        """A whistle SLA just met takes what the hotline said of its complaint before."""
        known = await clock_rows.fact(session, complaint_id)
        if known is None:
            return
        if known.merged_into and known.merged_at:
            await self._merge(session, complaint_id, known.merged_into, known.merged_at)
        if known.closed_at and known.closed_at > issued_at:
            await self._cancel(session, complaint_id, reason="complaint closed", at=known.closed_at)
        if known.feedback:
            await clock_rows.note_fact(session, complaint_id, feedback=None)
            await self.feedback(session, ComplaintFeedbackRecorded.model_validate(known.feedback))

    async def _merge(self, session: AsyncSession, complaint_id: str, into: str, at: datetime) -> None:
        reason = f"merged duplicate (into {into})"
        await clock_rows.mark_merged(session, complaint_id, into)
        await self._cancel(session, complaint_id, reason=reason, at=at)
        await measures.exclude_complaint(session, complaint_id, reason)

    async def _cancel(self, session: AsyncSession, complaint_id: str, *, reason: str, at: datetime) -> None:
        for clock in await clock_rows.running(session, complaint_id=complaint_id):
            whistle: Any = await clock_rows.whistle(session, clock.whistle_id)
            await self.keeper.stop_clocks(session, whistle, [clock], cause="cancelled", reason=reason, at=at)
