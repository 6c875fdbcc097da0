"""Intake's reactions to dispatch and SLA events: the resident-facing status and timeline, the
handling units, the lead unit and the resolve deadline. A complaint merged into another mirrors it.

    whistle.issued           dispatched (已派至X办理); the summoned units may read the contact
    assignment.queued        the unit added may read the contact (nothing for the resident)
    assignment.signed_off    in progress (X已签收，正在办理)
    assignment.reported_in   in progress, and the resident sees 已联系/已到场 each time
    assignment.rerouted      the unit taken on may read the contact; when it was the lead that was
                             re-routed, the lead changes and the resident sees 已改派至X
    whistle.completed        resolved, by result (the answering unit becomes the one shown)
    whistle.superseded       its late events no longer move the complaint (nothing for the resident:
                             the reopening that caused it told them)
    clock.started (resolve)  the resolve deadline (Open311 `expected_datetime`); an extension comes
                             as a new one for the same clock, and the deadline moves

Not followed: whistle.escalated and assignment.extended (internal; an extension reaches residents
as the moved deadline), reminders, returns (the re-route that follows is what residents see).
Events of a complaint intake does not know — a street's own whistle — are skipped quietly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import repository
from services.intake.context import IntakeContext
from services.intake.metrics import STATUS_CHANGES
from services.intake.repository import ComplaintState, Entry
from services.intake.status import (
    next_status,
    reported_in_note,
    rerouted_note,
    resident_note,
    resolved_note,
)
from shared.consumer import HandlerTable
from shared.events import (
    AssignmentQueued,
    AssignmentRef,
    AssignmentReportedIn,
    AssignmentRerouted,
    AssignmentSignedOff,
    ClockStarted,
    Envelope,
    WhistleCompleted,
    WhistleIssued,
    WhistleSuperseded,
)
from shared.logging import get_logger
from shared.routing import ANSWERING_ROLES

log = get_logger(__name__)

Note = Callable[[str, str | None], str]
"""The resident's note for an entry, from the status it leaves and the unit's name."""


@dataclass(frozen=True)
class Change:
    """What an event does to a complaint: columns to set, and a timeline entry of `kind` when the
    event moves the status forward (or `always`, for a resident-visible change that does not)."""

    event_type: str
    kind: str
    at: datetime
    unit: str | None
    note: Note = resident_note
    values: dict[str, Any] = field(default_factory=dict)
    result: str | None = None
    always: bool = False


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
            AssignmentQueued: self.on_assignment_queued,
            AssignmentSignedOff: self.on_signed_off,
            AssignmentReportedIn: self.on_reported_in,
            AssignmentRerouted: self.on_rerouted,
            WhistleCompleted: self.on_whistle_completed,
            WhistleSuperseded: self.on_whistle_superseded,
            ClockStarted: self.on_clock_started,
        }

    async def on_whistle_issued(
        self, session: AsyncSession, payload: WhistleIssued, envelope: Envelope
    ) -> None:
        complaint = await _locked(session, payload.complaint_id, envelope)
        if complaint is None:
            return
        await _add_units(session, complaint.id, payload.whistle_id, payload.assignments, at=payload.issued_at)
        lead = next((a for a in payload.assignments if a.role in ANSWERING_ROLES), None)
        lead_unit = (
            lead.unit_code if lead else (payload.assignments[0].unit_code if payload.assignments else None)
        )
        values = {"whistle_id": payload.whistle_id, "lead_unit_code": lead_unit}
        await self._apply(
            session,
            complaint,
            Change(envelope.type, "dispatched", payload.issued_at, lead_unit, values=values),
        )

    async def on_assignment_queued(
        self, session: AsyncSession, payload: AssignmentQueued, envelope: Envelope
    ) -> None:
        complaint = await _locked(session, payload.complaint_id, envelope)
        if complaint is None:
            return
        ref = AssignmentRef(
            assignment_id=payload.assignment_id,
            unit_code=payload.unit_code,
            department_code=payload.department_code,
            role=payload.role,
        )
        await _add_units(session, complaint.id, payload.whistle_id, [ref], at=payload.at)

    async def on_signed_off(
        self, session: AsyncSession, payload: AssignmentSignedOff, envelope: Envelope
    ) -> None:
        complaint = await self._current(session, payload.complaint_id, payload.whistle_id, envelope)
        if complaint is not None:
            await self._apply(
                session, complaint, Change(envelope.type, "signed_off", payload.at, payload.unit_code)
            )

    async def on_reported_in(
        self, session: AsyncSession, payload: AssignmentReportedIn, envelope: Envelope
    ) -> None:
        complaint = await self._current(session, payload.complaint_id, payload.whistle_id, envelope)
        if complaint is None:
            return

        def note(_status: str, unit_name: str | None) -> str:
            return reported_in_note(payload.kind, unit_name)

        change = Change(envelope.type, "reported_in", payload.at, payload.unit_code, note=note, always=True)
        await self._apply(session, complaint, change)

    async def on_rerouted(
        self, session: AsyncSession, payload: AssignmentRerouted, envelope: Envelope
    ) -> None:
        complaint = await self._current(session, payload.complaint_id, payload.whistle_id, envelope)
        if complaint is None:
            return
        await _add_units(session, complaint.id, payload.whistle_id, [payload.to], at=payload.at)
        if payload.from_unit_code != complaint.lead_unit_code:
            return  # a co-unit's order moved: the resident's matter is still with the same lead

        def note(_status: str, unit_name: str | None) -> str:
            return rerouted_note(unit_name)

        unit = payload.to.unit_code
        change = Change(
            envelope.type,
            "rerouted",
            payload.at,
            unit,
            note=note,
            values={"lead_unit_code": unit},
            always=True,
        )
        await self._apply(session, complaint, change)

    async def on_whistle_completed(
        self, session: AsyncSession, payload: WhistleCompleted, envelope: Envelope
    ) -> None:
        complaint = await self._current(session, payload.complaint_id, payload.whistle_id, envelope)
        if complaint is None:
            return
        unit = payload.unit_code or complaint.lead_unit_code

        def note(_status: str, unit_name: str | None) -> str:
            return resolved_note(payload.result, unit_name)

        values = {"lead_unit_code": unit} if payload.unit_code else {}
        change = Change(
            envelope.type, "resolved", payload.at, unit, note=note, values=values, result=payload.result
        )
        await self._apply(session, complaint, change)

    async def on_whistle_superseded(
        self, session: AsyncSession, payload: WhistleSuperseded, envelope: Envelope
    ) -> None:
        complaint = await _locked(session, payload.complaint_id, envelope)
        if complaint is None or complaint.whistle_id != payload.whistle_id:
            return  # the usual case: the reopening already let go of it
        for target in [complaint, *await repository.lock_merged_states(session, complaint)]:
            if target.status != "closed":
                await repository.change(session, target.id, {"whistle_id": None})

    async def on_clock_started(
        self, session: AsyncSession, payload: ClockStarted, envelope: Envelope
    ) -> None:
        """The resolve deadline is what Open311 shows as `expected_datetime`; an extension starts the
        same clock again with its new deadline."""
        if payload.stage != "resolve":
            return
        complaint = await self._current(session, payload.complaint_id, payload.whistle_id, envelope)
        if complaint is None:
            return
        values = {"expected_at": payload.due_at}
        await repository.change(session, complaint.id, values)
        for child in await repository.lock_merged_states(session, complaint):
            if child.status != "closed":
                await repository.change(session, child.id, values)

    async def _current(
        self, session: AsyncSession, complaint_id: str, whistle_id: str, envelope: Envelope
    ) -> ComplaintState | None:
        """The complaint, locked, unless it is unknown or the event is of an earlier round's whistle
        (which must not move this round's status)."""
        complaint = await _locked(session, complaint_id, envelope)
        if complaint is None:
            return None
        if await repository.is_earlier_whistle(session, complaint.id, whistle_id, complaint.whistle_id):
            return None
        return complaint

    async def _apply(self, session: AsyncSession, complaint: ComplaintState, change: Change) -> None:
        """Apply the change to the complaint and those merged into it (a closed one keeps still)."""
        view = self.ctx.view_or_none()
        unit_name = view.unit_name(change.unit) if view else change.unit
        moved_root = None
        for target in [complaint, *await repository.lock_merged_states(session, complaint)]:
            if target.status == "closed":
                continue
            moved = next_status(target.status, change.event_type)
            if target is complaint:
                moved_root = moved
            entry = None
            if moved is not None or change.always:
                status = moved or target.status
                note = change.note(status, unit_name)
                entry = Entry(status, change.kind, change.at, change.unit, note, change.result)
            await repository.change(session, target.id, change.values, entry)
        if moved_root is not None:
            log.info("intake.status_changed", complaint_id=complaint.id, status=moved_root, kind=change.kind)
            STATUS_CHANGES.labels(moved_root).inc()


async def _add_units(
    session: AsyncSession, complaint_id: str, whistle_id: str, refs: list[AssignmentRef], *, at: datetime
) -> None:
    """The units summoned for the complaint: who may read the reporter's contact."""
    await repository.add_handling_units(
        session,
        [
            dict(
                complaint_id=complaint_id,
                whistle_id=whistle_id,
                unit_code=a.unit_code,
                department_code=a.department_code,
                role=a.role,
                at=at,
            )
            for a in refs
        ],
    )


async def _locked(session: AsyncSession, complaint_id: str, envelope: Envelope) -> ComplaintState | None:
    complaint = await repository.lock_state(session, complaint_id)
    if complaint is None:
        # A street's or community's own whistle has no complaint here: nothing to follow.
        log.debug("intake.event_without_complaint", complaint_id=complaint_id, event_type=envelope.type)
    return complaint
