"""SLA's reactions to dispatch events: start and stop clocks."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.sla import repository
from services.sla.clocks import WHISTLE_LEVEL, plan_clocks
from shared.consumer import HandlerTable
from shared.events import AssignmentSignedOff, ClockStarted, Envelope, WhistleCompleted, WhistleIssued
from shared.logging import get_logger
from shared.messaging_tables import Outbox
from shared.snapshot_cache import SnapshotCache

log = get_logger(__name__)


class SlaHandlers:
    def __init__(self, cache: SnapshotCache, outbox: Outbox) -> None:
        self.cache = cache
        self.outbox = outbox

    async def on_whistle_issued(
        self, session: AsyncSession, payload: WhistleIssued, envelope: Envelope
    ) -> None:
        city = self.cache.require().snapshot.city
        # Judged by the policy in force when the whistle was issued, on the city's work calendar.
        policy = city.policies_at(payload.issued_at).sla[payload.urgency]
        plans = plan_clocks(payload, policy, city.work_calendar())
        await repository.start_clocks(
            session, complaint_id=payload.complaint_id, whistle_id=payload.whistle_id, plans=plans
        )
        for plan in plans:
            await self.outbox.add(
                session,
                ClockStarted(
                    complaint_id=payload.complaint_id,
                    whistle_id=payload.whistle_id,
                    stage=plan.stage,
                    unit_code=plan.unit_code,
                    due_at=plan.due_at,
                    at=plan.started_at,
                ),
                correlation_id=payload.complaint_id,
            )
        log.info("sla.clocks_started", whistle_id=payload.whistle_id, clocks=len(plans))

    async def on_signed_off(
        self, session: AsyncSession, payload: AssignmentSignedOff, envelope: Envelope
    ) -> None:
        await repository.stop_clock(
            session,
            whistle_id=payload.whistle_id,
            stage="sign_off",
            unit_code=payload.unit_code,
            at=payload.at,
        )

    async def on_whistle_completed(
        self, session: AsyncSession, payload: WhistleCompleted, envelope: Envelope
    ) -> None:
        await repository.stop_clock(
            session, whistle_id=payload.whistle_id, stage="resolve", unit_code=WHISTLE_LEVEL, at=payload.at
        )

    def table(self) -> HandlerTable:
        return {
            WhistleIssued: self.on_whistle_issued,
            AssignmentSignedOff: self.on_signed_off,
            WhistleCompleted: self.on_whistle_completed,
        }
