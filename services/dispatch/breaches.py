"""What dispatch does when SLA warns of or reports a breached deadline: the escalation ladder
(`escalation`) set off, its steps kept in a durable table, and fired when due — at once in the
consumer's transaction, or later by a supervised job that claims due steps with SKIP LOCKED (any
number of replicas, each step once)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatch import escalation, lifecycle, metrics
from services.dispatch.announcements import assignment_fields, queued
from services.dispatch.assignments import view_of
from services.dispatch.models import Assignment, EscalationStepRow, Whistle
from services.dispatch.repository import assignments as assignment_rows
from services.dispatch.repository import escalations as step_rows
from services.dispatch.repository import signals
from services.dispatch.repository import whistles as whistle_rows
from services.dispatch.wakeups import Wakeups
from shared.city_index import CityIndex
from shared.consumer import HandlerTable
from shared.events import (
    AssignmentReminded,
    ClockBreached,
    ClockEvent,
    ClockWarning,
    Envelope,
    WhistleEscalated,
    utcnow,
)
from shared.logging import get_logger
from shared.messaging_tables import Outbox
from shared.routing import CO
from shared.snapshot_cache import SnapshotCache

log = get_logger(__name__)

IDLE_SECONDS = 30.0  # the job looks at least this often (a signal or a due time wakes it sooner)


class Breaches:
    def __init__(self, cache: SnapshotCache, outbox: Outbox, wakeups: Wakeups) -> None:
        self.cache = cache
        self.outbox = outbox
        self.wakeups = wakeups

    async def on_clock_warning(
        self, session: AsyncSession, payload: ClockWarning, envelope: Envelope
    ) -> None:
        await self.set_off(session, payload, when="warning")

    async def on_clock_breached(
        self, session: AsyncSession, payload: ClockBreached, envelope: Envelope
    ) -> None:
        await self.set_off(session, payload, when="breached")

    @staticmethod
    def wants(envelope: Envelope) -> bool:
        """Only warnings and breaches: other SLA events are skipped without a transaction."""
        return envelope.type in (ClockWarning.TYPE, ClockBreached.TYPE)

    async def set_off(
        self, session: AsyncSession, clock: ClockEvent, *, when: Literal["warning", "breached"]
    ) -> None:
        """Record the ladder's steps this event sets off (once per clock) and fire those due now."""
        whistle = await whistle_rows.whistle(session, clock.whistle_id)
        if whistle is None:
            log.warning(
                "dispatch.clock_of_unknown_whistle", whistle_id=clock.whistle_id, clock_id=clock.clock_id
            )
            return
        index = self.cache.require().index
        city = index.city
        due = escalation.steps_for(
            city.policies_at(whistle.issued_at).dispatch.escalation,
            when=when,
            stage=clock.stage,
            at=clock.at,
            calendar=city.work_calendar(),
        )
        assignment = _concerned(whistle.assignments, clock)
        now, later = utcnow(), False
        for step in due:
            step_id = await step_rows.schedule(session, _step_values(clock, whistle, assignment, step, when))
            if step_id is None:
                continue  # this clock set the step off before (a redelivery)
            if step.due_at <= now:
                await self.fire(session, await step_rows.step(session, step_id), index=index, now=now)
            else:
                later = True
        if later:
            await signals.steps_due(session)

    async def fire(
        self, session: AsyncSession, row: EscalationStepRow, *, index: CityIndex, now: datetime
    ) -> None:
        """Fire one due step, or record why it is skipped (the whistle or assignment moved on)."""
        whistle = await whistle_rows.whistle_for_update(session, row.whistle_id)
        assert whistle is not None
        assignment = (
            await assignment_rows.assignment_for_update(session, row.assignment_id)
            if row.assignment_id
            else None
        )
        why = escalation.why_skip(
            row.stage, whistle_status=whistle.status, assignment=view_of(assignment) if assignment else None
        )
        if why is None and row.action == "remind" and assignment is None:
            why = "no open assignment to remind"
        if why is None and row.action == "backstop_joins":
            why = await self._backstop_joins(session, whistle, index=index, now=now)
        row.fired_at, row.outcome, row.detail = now, escalation.SKIPPED if why else escalation.FIRED, why
        if why is not None:
            log.info("dispatch.escalation_skipped", step_id=row.id, action=row.action, why=why)
            return
        if row.action == "remind":
            assert assignment is not None
            reminded = AssignmentReminded(
                **assignment_fields(assignment, at=now),
                stage=row.stage,
                cause=row.cause,
            )
            await self.outbox.add(session, reminded, correlation_id=row.complaint_id)
        else:
            escalated = WhistleEscalated(
                whistle_id=whistle.id,
                complaint_id=whistle.complaint_id,
                district_code=whistle.district_code,
                stage=row.stage,
                unit_code=row.unit_code,
                action=row.action,
                step=row.position,
                at=now,
            )
            await self.outbox.add(session, escalated, correlation_id=whistle.complaint_id)
        log.info("dispatch.escalation_fired", step_id=row.id, action=row.action, whistle_id=whistle.id)
        metrics.ESCALATIONS.labels(row.action, row.stage).inc()

    async def _backstop_joins(
        self, session: AsyncSession, whistle: Whistle, *, index: CityIndex, now: datetime
    ) -> str | None:
        """The district backstop joins the whistle as a co-unit; why not, when it cannot."""
        backstop = index.backstops.get(whistle.district_code)
        siblings = await whistle_rows.assignments_of(session, whistle.id, lock=True)
        if backstop is None:
            return f"district {whistle.district_code} has no backstop"
        if any(s.unit_code == backstop for s in siblings):
            return "the backstop is already on this whistle"
        joined = Assignment(
            id=str(uuid.uuid4()),
            whistle_id=whistle.id,
            complaint_id=whistle.complaint_id,
            unit_code=backstop,
            department_code=None,
            role=CO,
            position=max((s.position for s in siblings), default=-1) + 1,
            status=lifecycle.QUEUED,
            queued_at=now,
        )
        assignment_rows.add(session, joined)
        await session.flush()
        await self.outbox.add(session, queued(joined, whistle), correlation_id=whistle.complaint_id)
        return None

    async def fire_due(self, session: AsyncSession, *, limit: int = 100) -> int:
        """Fire the steps due now that no other replica holds; how many were taken."""
        index = self.cache.require().index
        now = utcnow()
        rows = await step_rows.due_for_update(session, now=now, limit=limit)
        for row in rows:
            await self.fire(session, row, index=index, now=now)
        return len(rows)

    async def fire_due_steps(self, runtime: Any, stop: asyncio.Event) -> None:
        """A runtime background job: fire due steps, then sleep until the next falls due or a commit
        schedules one."""
        await self.cache.load_until_ready(stop)
        while not stop.is_set():
            woken = self.wakeups.steps_event()
            async with runtime.sessions() as session, session.begin():
                taken = await self.fire_due(session)
            if taken:
                continue
            async with runtime.sessions() as session:
                next_due = await step_rows.next_due(session)
            pause = IDLE_SECONDS if next_due is None else (next_due - utcnow()).total_seconds()
            await self.wakeups.wait(woken, min(IDLE_SECONDS, max(0.0, pause)), stop=stop)

    def table(self) -> HandlerTable:
        return {ClockWarning: self.on_clock_warning, ClockBreached: self.on_clock_breached}


def _concerned(assignments: Sequence[Assignment], clock: ClockEvent) -> Assignment | None:
    """The assignment a clock is about: its own, or for a whistle-level clock the open answering unit's."""
    if clock.assignment_id:
        return next((a for a in assignments if a.id == clock.assignment_id), None)
    answering = [a for a in assignments if lifecycle.answers(a.role) and lifecycle.is_open(a.status)]
    return next((a for a in answering if a.unit_code == clock.unit_code), answering[0] if answering else None)


def _step_values(
    clock: ClockEvent,
    whistle: Whistle,
    assignment: Assignment | None,
    step: escalation.DueStep,
    when: Literal["warning", "breached"],
) -> dict[str, object]:
    return dict(
        whistle_id=whistle.id,
        complaint_id=whistle.complaint_id,
        assignment_id=assignment.id if assignment else None,
        clock_id=clock.clock_id or clock.whistle_id,
        stage=clock.stage,
        cause=escalation.cause_of(when),
        position=step.position,
        action=step.step.action,
        unit_code=assignment.unit_code if assignment else clock.unit_code,
        district_code=whistle.district_code,
        due_at=step.due_at,
    )
