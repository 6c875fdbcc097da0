"""Intake's reactions to dispatch and SLA events: the resident-facing status, the handling units,
the lead unit and the resolve deadline. A complaint merged into another mirrors it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import repository
from services.intake.context import IntakeContext
from services.intake.repository import ComplaintState
from services.intake.status import next_status, resident_note
from shared.consumer import HandlerTable
from shared.events import AssignmentSignedOff, ClockStarted, Envelope, WhistleCompleted, WhistleIssued
from shared.logging import get_logger
from shared.routing import ANSWERING_ROLES

log = get_logger(__name__)


class IntakeHandlers:
    def __init__(self, ctx: IntakeContext) -> None:
        self.ctx = ctx

    @staticmethod
    def wants(envelope: Envelope) -> bool:
        """Only the resolve deadline matters here: other clocks are skipped before any transaction."""
        return envelope.type != "clock.started" or envelope.payload.get("stage") == "resolve"

    def table(self) -> HandlerTable:
        return {
            WhistleIssued: self.on_whistle_issued,
            AssignmentSignedOff: self.on_signed_off,
            WhistleCompleted: self.on_whistle_completed,
            ClockStarted: self.on_clock_started,
        }

    async def on_whistle_issued(
        self, session: AsyncSession, payload: WhistleIssued, envelope: Envelope
    ) -> None:
        complaint = await _locked(session, payload.complaint_id)
        if complaint is None:
            return
        await repository.add_handling_units(
            session,
            [
                dict(
                    complaint_id=complaint.id,
                    whistle_id=payload.whistle_id,
                    unit_code=a.unit_code,
                    department_code=a.department_code,
                    role=a.role,
                    at=payload.issued_at,
                )
                for a in payload.assignments
            ],
        )
        lead = next((a for a in payload.assignments if a.role in ANSWERING_ROLES), None)
        lead_unit = (
            lead.unit_code if lead else (payload.assignments[0].unit_code if payload.assignments else None)
        )
        changes: dict[str, Any] = {"whistle_id": payload.whistle_id, "lead_unit_code": lead_unit}
        await self._move(
            session, complaint, envelope.type, at=payload.issued_at, unit=lead_unit, changes=changes
        )

    async def on_signed_off(
        self, session: AsyncSession, payload: AssignmentSignedOff, envelope: Envelope
    ) -> None:
        complaint = await _locked(session, payload.complaint_id)
        if complaint is None or await self._stale(session, complaint, payload.whistle_id):
            return
        await self._move(session, complaint, envelope.type, at=payload.at, unit=payload.unit_code)

    async def on_whistle_completed(
        self, session: AsyncSession, payload: WhistleCompleted, envelope: Envelope
    ) -> None:
        complaint = await _locked(session, payload.complaint_id)
        if complaint is None or await self._stale(session, complaint, payload.whistle_id):
            return
        await self._move(session, complaint, envelope.type, at=payload.at, unit=complaint.lead_unit_code)

    async def on_clock_started(
        self, session: AsyncSession, payload: ClockStarted, envelope: Envelope
    ) -> None:
        """The resolve deadline is what Open311 shows as `expected_datetime`."""
        if payload.stage != "resolve":
            return
        complaint = await _locked(session, payload.complaint_id)
        if complaint is None or await self._stale(session, complaint, payload.whistle_id):
            return
        changes = {"expected_at": payload.due_at}
        await repository.change(session, complaint.id, changes)
        for child in await repository.lock_merged_states(session, complaint):
            if child.status != "closed":
                await repository.change(session, child.id, changes)

    async def _stale(self, session: AsyncSession, complaint: ComplaintState, whistle_id: str) -> bool:
        """An event of an earlier round's whistle: it must not move this round's status."""
        return await repository.is_earlier_whistle(session, complaint.id, whistle_id, complaint.whistle_id)

    async def _move(
        self,
        session: AsyncSession,
        complaint: ComplaintState,
        event_type: str,
        *,
        at: datetime,
        unit: str | None,
        changes: dict[str, Any] | None = None,
    ) -> None:
        """Apply the event's status (if it moves forward) to the complaint and those merged into it."""
        view = self.ctx.view_or_none()
        unit_name = view.unit_name(unit) if view else unit
        status = next_status(complaint.status, event_type)
        for target in [complaint, *await repository.lock_merged_states(session, complaint)]:
            if target.status == "closed":
                continue
            moved = next_status(target.status, event_type) if target is not complaint else status
            new = repository.NewStatus(moved, at, unit, resident_note(moved, unit_name)) if moved else None
            await repository.change(session, target.id, changes or {}, new)
        if status is not None:
            log.info("intake.status_changed", complaint_id=complaint.id, status=status)


async def _locked(session: AsyncSession, complaint_id: str) -> ComplaintState | None:
    complaint = await repository.lock_state(session, complaint_id)
    if complaint is None:
        log.warning("intake.unknown_complaint", complaint_id=complaint_id)
    return complaint
