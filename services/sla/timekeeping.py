"""What each dispatch event does to the clocks: start, stop and move them, and keep what each clock
counts for up to date (the services layer: it writes in the caller's transaction and only flushes).

    whistle.issued        every assignment's clocks and the answering unit's resolve clock start
    assignment.queued     the new assignment's clocks start (a resolve clock too for an answering
                          unit, when none runs)
    signed_off            sign_off stops               reported_in   contact (on site: report_in too)
    reported_back         the assignment's clocks stop; the answering unit's resolve clock too
    returned, rerouted    the returning unit's clocks stop as `returned`; the new unit's start
    extended              the assignment's running clocks move (and the resolve clock, for the
                          answering unit), each announced again as clock.started
    closed                the assignment's clocks are cancelled (not needed, withdrawn)
    whistle.completed     nothing of the whistle keeps running; whistle.superseded cancels it all

A clock is always stopped through `stop_clocks` and moved through `move_clocks`, which judge it
(`clocks.judge`) into its measure row and announce it on `sla.events`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy.ext.asyncio import AsyncSession

from services.sla.clocks import (
    ClockPlan,
    ClockState,
    StopCause,
    answering,
    extended_due,
    judge,
    plan_assignment,
    plan_clocks,
    plan_stage,
    stop_status,
    warn_point,
)
from services.sla.repository import clocks as clock_rows
from services.sla.repository import measures
from services.sla.tallies import WHISTLE_MEASURE
from shared.city import SlaPolicy
from shared.city_index import CityIndex
from shared.errors import Rejected
from shared.events import (
    AssignmentEvent,
    AssignmentExtended,
    AssignmentQueued,
    AssignmentRef,
    AssignmentRerouted,
    ClockStarted,
    ClockStopped,
    Payload,
    WhistleIssued,
)
from shared.logging import get_logger
from shared.routing import ANSWERING_ROLES
from shared.snapshot_cache import SnapshotCache

log = get_logger(__name__)


class EventSink(Protocol):
    """Where SLA's events go: the outbox (or nowhere, while rebuilding)."""

    async def add(self, session: AsyncSession, payload: Payload, *, correlation_id: str) -> Any: ...


@dataclass
class Timekeeper:
    cache: SnapshotCache
    events: EventSink

    # --- whistles and assignments -----------------------------------------------------------------

    async def whistle_issued(self, session: AsyncSession, e: WhistleIssued) -> None:
        index = self._index()
        lead = answering(e.assignments)
        values = {
            "whistle_id": e.whistle_id,
            "complaint_id": e.complaint_id,
            "round": e.round,
            "kind": e.kind,
            "category": e.category,
            "urgency": e.urgency,
            "street_code": e.street_code,
            "district_code": e.district_code or index.street_district.get(e.street_code, ""),
            "visit_required": e.visit_required,
            "issued_at": e.issued_at,
            "status": "open",
            "answering_unit": lead.unit_code if lead else None,
            "answering_department": lead.department_code if lead else None,
        }
        await clock_rows.add_whistle(session, values)
        whistle = await clock_rows.whistle(session, e.whistle_id)
        assert whistle is not None
        calendar = index.city.work_calendar()
        await self._start(session, whistle, plan_clocks(e, self._policy(e.urgency, e.issued_at), calendar))
        if e.kind == "street_whistle":
            await measures.put(session, [self._whistle_blown(whistle)])

    async def assignment_queued(self, session: AsyncSession, e: AssignmentQueued) -> None:
        whistle = await self._whistle(session, e.whistle_id, e)
        if whistle is not None:
            unit = AssignmentRef(
                assignment_id=e.assignment_id,
                unit_code=e.unit_code,
                department_code=e.department_code,
                role=e.role,
            )
            await self._join(session, whistle, unit, at=e.at, answers=e.role in ANSWERING_ROLES)

    async def rerouted(self, session: AsyncSession, e: AssignmentRerouted) -> None:
        whistle = await self._whistle(session, e.whistle_id, e)
        if whistle is None:
            return
        returning = await clock_rows.running(session, assignment_id=e.from_assignment_id)
        returning += await clock_rows.running(
            session, whistle_id=e.whistle_id, stages=["resolve"], unit_code=e.from_unit_code
        )
        await self.stop_clocks(session, whistle, returning, cause="returned", reason=e.reason, at=e.at)
        answers = whistle.answering_unit == e.from_unit_code or e.to.role in ANSWERING_ROLES
        await self._join(session, whistle, e.to, at=e.at, answers=answers)

    async def stop_stages(
        self,
        session: AsyncSession,
        e: AssignmentEvent,
        *,
        stages: Sequence[str] | None,
        cause: StopCause,
        reason: str,
        with_resolve: bool = False,
    ) -> None:
        """Stop the assignment's running clocks of these stages (None: all), and with `with_resolve`
        the whistle's resolve clock of the same unit."""
        whistle = await self._whistle(session, e.whistle_id, e)
        if whistle is None:
            return
        found = await clock_rows.running(session, assignment_id=e.assignment_id, stages=stages)
        if with_resolve:
            found += await clock_rows.running(
                session, whistle_id=e.whistle_id, stages=["resolve"], unit_code=e.unit_code
            )
        await self.stop_clocks(session, whistle, found, cause=cause, reason=reason, at=e.at)

    async def extended(self, session: AsyncSession, e: AssignmentExtended) -> None:
        whistle = await self._whistle(session, e.whistle_id, e)
        if whistle is None:
            return
        found = await clock_rows.running(session, assignment_id=e.assignment_id)
        if whistle.answering_unit == e.unit_code:
            found += await clock_rows.running(
                session, whistle_id=e.whistle_id, stages=["resolve"], unit_code=e.unit_code
            )
        policy = self._policy(whistle.urgency, whistle.issued_at)
        calendar = self._index().city.work_calendar()
        for clock in found:
            due = extended_due(clock.due_at, working_days=e.working_days, until=e.until, calendar=calendar)
            if due == clock.due_at:
                continue
            moved = await clock_rows.move(
                session,
                clock,
                due_at=due,
                warn_at=warn_point(clock.started_at, due, policy.warn_at),
                extension_id=e.extension_id,
            )
            await self.judge_into_measure(session, whistle, moved)
            await self.events.add(session, started_event(moved), correlation_id=moved.complaint_id)
        log.info("sla.clocks_extended", assignment_id=e.assignment_id, clocks=len(found))

    async def end_whistle(
        self,
        session: AsyncSession,
        whistle_id: str,
        *,
        status: str,
        reason: str,
        at: datetime,
        answered_by: str = "",
    ) -> None:
        """The whistle is completed or superseded: its resolve clock is judged, the rest cancelled."""
        whistle = await clock_rows.whistle(session, whistle_id)
        if whistle is None:
            log.info("sla.unknown_whistle", whistle_id=whistle_id)
            return
        values: dict[str, Any] = {"status": status}
        if answered_by:
            values["answering_unit"] = answered_by
        await clock_rows.update_whistle(session, whistle_id, **values)
        left = await clock_rows.running(session, whistle_id=whistle_id)
        resolve = [c for c in left if c.stage == "resolve" and status == "completed"]
        await self.stop_clocks(session, whistle, resolve, cause="done", reason=reason, at=at)
        rest = [c for c in left if c not in resolve]
        await self.stop_clocks(session, whistle, rest, cause="cancelled", reason=reason, at=at)

    # --- the steps every change goes through ------------------------------------------------------

    async def stop_clocks(
        self,
        session: AsyncSession,
        whistle: Any,
        clocks: Sequence[Any],
        *,
        cause: StopCause,
        reason: str,
        at: datetime,
    ) -> None:
        for clock in clocks:
            status = stop_status(cause, due=clock.due_at, at=at)
            stopped = await clock_rows.stop(session, clock.clock_id, status=status, reason=reason, at=at)
            if stopped is None:
                continue
            await self.judge_into_measure(session, whistle, stopped)
            event = ClockStopped(
                **clock_event_fields(stopped), at=at, status=cast(Any, status), reason=stopped.reason
            )
            await self.events.add(session, event, correlation_id=stopped.complaint_id)

    async def judge_into_measure(self, session: AsyncSession, whistle: Any, clock: Any) -> None:
        """Write what the clock counts for now (or nothing, while its outcome is unknown)."""
        judged = judge(
            ClockState(
                stage=clock.stage,
                status=clock.status,
                due_at=clock.due_at,
                stopped_at=clock.stopped_at,
                breached_at=clock.breached_at,
                extended=clock.extension_id is not None,
                reason=clock.reason,
                merged_into=whistle.merged_into if whistle is not None else None,
            )
        )
        if judged is None:
            await measures.forget(session, [clock.clock_id])
            return
        row = case_fields(clock) | {
            "key": clock.clock_id,
            "clock_id": clock.clock_id,
            "measure": judged.measure,
            "outcome": judged.outcome,
            "counted": judged.counted,
            "reason": judged.reason[:200],
            "at": judged.at,
        }
        await measures.put(session, [row])

    async def _join(
        self, session: AsyncSession, whistle: Any, unit: AssignmentRef, *, at: datetime, answers: bool
    ) -> None:
        """A unit joins the whistle at `at`: its assignment's clocks start, and, when it answers and
        no resolve clock runs, the resolve clock."""
        policy = self._policy(whistle.urgency, whistle.issued_at)
        calendar = self._index().city.work_calendar()
        plans = plan_assignment(
            whistle.whistle_id,
            unit,
            kind=whistle.kind,
            visit_required=whistle.visit_required,
            start=at,
            policy=policy,
            calendar=calendar,
        )
        resolving = await clock_rows.running(session, whistle_id=whistle.whistle_id, stages=["resolve"])
        if answers and not resolving:
            plans.append(
                plan_stage(whistle.whistle_id, unit, "resolve", start=at, policy=policy, calendar=calendar)
            )
            await clock_rows.update_whistle(
                session,
                whistle.whistle_id,
                answering_unit=unit.unit_code,
                answering_department=unit.department_code,
            )
        await self._start(session, whistle, plans)

    async def _start(self, session: AsyncSession, whistle: Any, plans: Sequence[ClockPlan]) -> None:
        owners = self._index().owners
        rows = [
            {
                "clock_id": p.clock_id,
                "complaint_id": whistle.complaint_id,
                "whistle_id": whistle.whistle_id,
                "assignment_id": p.assignment_id,
                "unit_code": p.unit_code,
                "department_code": p.department_code,
                "owner_street": getattr(owners.get(p.unit_code), "street_code", None),
                "street_code": whistle.street_code,
                "district_code": whistle.district_code,
                "role": p.role,
                "stage": p.stage,
                "status": "running",
                "reason": "",
                "started_at": p.started_at,
                "due_at": p.due_at,
                "warn_at": p.warn_at,
            }
            for p in plans
        ]
        new = await clock_rows.start_clocks(session, rows)
        for row in rows:
            if row["clock_id"] in new:
                await self.events.add(session, started_event(row), correlation_id=row["complaint_id"])
        if new:
            log.info("sla.clocks_started", whistle_id=whistle.whistle_id, clocks=len(new))

    def _whistle_blown(self, whistle: Any) -> dict[str, Any]:
        return {
            "key": f"{whistle.whistle_id}:whistle",
            "measure": WHISTLE_MEASURE,
            "outcome": "blown",
            "counted": True,
            "reason": "a street's own whistle",
            "at": whistle.issued_at,
            "unit_code": whistle.street_code,
            "department_code": None,
            "owner_street": whistle.street_code,
            "street_code": whistle.street_code,
            "district_code": whistle.district_code,
            "complaint_id": whistle.complaint_id,
            "whistle_id": whistle.whistle_id,
            "assignment_id": None,
            "clock_id": None,
        }

    async def _whistle(self, session: AsyncSession, whistle_id: str, e: Payload) -> Any:
        whistle = await clock_rows.whistle(session, whistle_id)
        if whistle is None:
            # A whistle issued before SLA followed them: nothing of it is timed.
            log.info("sla.unknown_whistle", whistle_id=whistle_id, event_type=e.TYPE)
        return whistle

    def _index(self) -> CityIndex:
        return self.cache.require().index

    def _policy(self, urgency: str, issued_at: datetime) -> SlaPolicy:
        """The SLA policy of the urgency in force when the whistle was issued."""
        policy = self._index().city.policies_at(issued_at).sla.get(urgency)  # type: ignore[call-overload]
        if policy is None:
            raise Rejected(f"no SLA policy for urgency {urgency!r}")
        return policy


CASE_COLUMNS = (
    "unit_code",
    "department_code",
    "owner_street",
    "street_code",
    "district_code",
    "complaint_id",
    "whistle_id",
    "assignment_id",
)


def case_fields(clock: Any) -> dict[str, Any]:
    """The columns a clock's measure row shares with the clock."""
    return {column: getattr(clock, column) for column in CASE_COLUMNS}


def clock_event_fields(clock: Any) -> dict[str, Any]:
    """The shared fields of a clock's warning, breach and stop."""
    return {
        "clock_id": clock.clock_id,
        "complaint_id": clock.complaint_id,
        "whistle_id": clock.whistle_id,
        "assignment_id": clock.assignment_id,
        "stage": clock.stage,
        "unit_code": clock.unit_code,
        "department_code": clock.department_code,
        "due_at": clock.due_at,
    }


def started_event(clock: Any) -> ClockStarted:
    """clock.started for a clock row (a mapping or a row): again, with the same id, when it moves."""
    get = clock.get if isinstance(clock, dict) else lambda name: getattr(clock, name)
    return ClockStarted(
        complaint_id=get("complaint_id"),
        whistle_id=get("whistle_id"),
        stage=get("stage"),
        unit_code=get("unit_code"),
        due_at=get("due_at"),
        at=get("started_at"),
        clock_id=get("clock_id"),
        assignment_id=get("assignment_id"),
    )
