"""Which clocks run, when they warn and fall due, how an extension moves them, how a stopped clock
is judged, and what it counts for in a unit's rates (pure).

Stages:

    sign_off   per assignment, until the unit signs off (签收)
    contact    per assignment, until it reports in `contacted` (an on-site report-in also answers)
    report_in  per assignment where the category asks for a visit, and for every unit summoned by
               a street's own whistle (报到), until it reports in `on_site`
    resolve    per whistle, for its answering unit (lead, street unit or backstop), until that
               unit reports back

Durations come from the SLA policy of the complaint's urgency in force when the whistle was issued,
working days on the city calendar; the warning falls at `warn_at` of the duration. A clock stops as

    met        its stage was done by the deadline        breached   done, or cancelled, after it
    returned   the unit sent the order back               cancelled  no longer needed before it

and counts toward its unit's rate for the stage (response, contact, report_in, on_time) at the
moment its outcome became known, except: a returned clock (the return was upheld) and a cancelled
one are excluded, as is one met after an approved extension moved it (the extension, not the
unit, made it on time); every clock of a complaint merged into another is excluded. A running
clock whose breach was emitted already counts as breached.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from shared.city import SlaPolicy
from shared.events import AssignmentRef, WhistleIssued
from shared.routing import ANSWERING_ROLES
from shared.work_calendar import Duration, DurationUnit, WorkCalendar, due_at, parse_duration

STAGES = ("sign_off", "contact", "report_in", "resolve")
MEASURE_OF_STAGE = {
    "sign_off": "response",
    "contact": "contact",
    "report_in": "report_in",
    "resolve": "on_time",
}
StopCause = Literal["done", "returned", "cancelled"]

_IDS = uuid.UUID("6f1c2b8e-5d0a-4c41-9a53-2f7e1e0c9b11")


@dataclass(frozen=True)
class ClockPlan:
    clock_id: str
    stage: str
    unit_code: str
    department_code: str | None
    assignment_id: str | None
    role: str
    started_at: datetime
    due_at: datetime
    warn_at: datetime


def clock_id(whistle_id: str, stage: str, unit_code: str, assignment_id: str | None) -> str:
    """The same clock always gets the same id, so a rebuild from the topics reproduces it."""
    return str(uuid.uuid5(_IDS, f"{whistle_id}/{assignment_id or '-'}/{stage}/{unit_code}"))


def answering(assignments: Sequence[AssignmentRef]) -> AssignmentRef | None:
    """The assignment whose report-back answers the whistle."""
    return next((a for a in assignments if a.role in ANSWERING_ROLES), None)


def assignment_stages(*, kind: str, visit_required: bool) -> tuple[str, ...]:
    if visit_required or kind == "street_whistle":
        return ("sign_off", "contact", "report_in")
    return ("sign_off", "contact")


def warn_point(start: datetime, due: datetime, share: float) -> datetime:
    """The instant `share` of the way from start to deadline."""
    return start + (due - start) * share


def plan_stage(
    whistle_id: str,
    unit: AssignmentRef,
    stage: str,
    *,
    start: datetime,
    policy: SlaPolicy,
    calendar: WorkCalendar,
) -> ClockPlan:
    assignment_id = None if stage == "resolve" else unit.assignment_id
    due = due_at(start, parse_duration(getattr(policy, stage)), calendar)
    return ClockPlan(
        clock_id=clock_id(whistle_id, stage, unit.unit_code, assignment_id),
        stage=stage,
        unit_code=unit.unit_code,
        department_code=unit.department_code,
        assignment_id=assignment_id,
        role=unit.role,
        started_at=start,
        due_at=due,
        warn_at=warn_point(start, due, policy.warn_at),
    )


def plan_assignment(
    whistle_id: str,
    unit: AssignmentRef,
    *,
    kind: str,
    visit_required: bool,
    start: datetime,
    policy: SlaPolicy,
    calendar: WorkCalendar,
) -> list[ClockPlan]:
    """The clocks of one assignment, started at `start`."""
    return [
        plan_stage(whistle_id, unit, stage, start=start, policy=policy, calendar=calendar)
        for stage in assignment_stages(kind=kind, visit_required=visit_required)
    ]


def plan_clocks(whistle: WhistleIssued, policy: SlaPolicy, calendar: WorkCalendar) -> list[ClockPlan]:
    """Each assignment's clocks, then the resolve clock of the answering unit."""
    start = whistle.issued_at
    plans = [
        plan
        for unit in whistle.assignments
        for plan in plan_assignment(
            whistle.whistle_id,
            unit,
            kind=whistle.kind,
            visit_required=whistle.visit_required,
            start=start,
            policy=policy,
            calendar=calendar,
        )
    ]
    lead = answering(whistle.assignments)
    if lead is not None:
        plans.append(
            plan_stage(whistle.whistle_id, lead, "resolve", start=start, policy=policy, calendar=calendar)
        )
    return plans


def extended_due(
    due: datetime, *, working_days: int | None, until: datetime | None, calendar: WorkCalendar
) -> datetime:
    """The deadline after an approved extension: `working_days` more on the calendar, or `until`.
    An extension never brings a deadline forward."""
    if until is not None:
        return max(due, until)
    if working_days:
        return due_at(due, Duration(working_days, DurationUnit.WORKING_DAYS), calendar)
    return due


def verdict(due: datetime, stopped: datetime) -> str:
    """A clock stopped by its deadline was met; later, breached."""
    return "met" if stopped <= due else "breached"


def stop_status(cause: StopCause, *, due: datetime, at: datetime) -> str:
    """How a clock stopped at `at` for this cause ends: work done is judged by the deadline; a
    return is a return; a clock no longer needed is cancelled, unless it had already run out."""
    if cause == "returned":
        return "returned"
    if cause == "cancelled":
        return "cancelled" if at <= due else "breached"
    return verdict(due, at)


@dataclass(frozen=True)
class ClockState:
    stage: str
    status: str
    due_at: datetime
    stopped_at: datetime | None = None
    breached_at: datetime | None = None
    extended: bool = False
    reason: str = ""
    merged_into: str | None = None


@dataclass(frozen=True)
class Judgement:
    """What a clock counts for: `outcome` met or breached, known `at`; or excluded with a reason."""

    measure: str
    outcome: str
    counted: bool
    reason: str
    at: datetime


def judge(clock: ClockState) -> Judgement | None:
    """What the clock counts for now; None while its outcome is not known yet."""
    found = _outcome(clock)
    if found is None:
        return None
    if clock.merged_into:
        return Judgement(
            found.measure, found.outcome, False, f"merged duplicate (into {clock.merged_into})", found.at
        )
    return found


def _outcome(clock: ClockState) -> Judgement | None:
    measure = MEASURE_OF_STAGE[clock.stage]
    if clock.status == "running":
        if clock.breached_at is None:
            return None
        return Judgement(measure, "breached", True, "deadline passed, still open", clock.breached_at)
    at = clock.stopped_at
    assert at is not None, "a stopped clock has stopped_at"
    if clock.status == "met":
        if clock.extended:
            return Judgement(measure, "met", False, "approved extension", at)
        return Judgement(measure, "met", True, "done in time", at)
    if clock.status == "breached":
        late = f"deadline missed ({clock.reason})" if clock.reason else "deadline missed"
        return Judgement(measure, "breached", True, late, clock.breached_at or at)
    if clock.status == "returned":
        return Judgement(measure, "returned", False, f"upheld return ({clock.reason})", at)
    return Judgement(measure, "cancelled", False, clock.reason or "cancelled", at)
