"""The escalation ladder: what dispatch does when SLA warns of or reports a breached deadline (pure).

The ladder is registry policy (`DispatchPolicy.escalation`, the version in force when the whistle
was issued): steps `(when, stage, after, action)`. A `clock.warning` or `clock.breached` of a stage
matches every step with that `when` and that stage (or `any`); each matching step falls due
`after` the event (at once without one) and then does its action:

    remind          assignment.reminded to the unit whose clock it is
    district        whistle.escalated (action district): the whistle enters the district command
                    centre's queue of escalations
    backstop_joins  the district backstop joins the whistle as a co-unit (assignment.queued) and
                    whistle.escalated (action backstop_joins)

A step fires once (per clock, cause and position on the ladder), and never for an assignment that
is no longer open or a whistle that is no longer open, nor once the stage it is about is done
(signed off, contacted, on site, reported back) — it is then recorded as skipped, with why.
Positions on the ladder are counted from 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from services.dispatch.lifecycle import (
    CONTACTED,
    ON_SITE,
    QUEUED,
    REPORTED_BACK,
    WHISTLE_OPEN,
    AssignmentView,
    is_open,
)
from shared.city import EscalationStep
from shared.work_calendar import WorkCalendar, due_at, parse_duration

Cause = Literal["warning", "breach"]
FIRED, SKIPPED = "fired", "skipped"


@dataclass(frozen=True)
class DueStep:
    position: int
    step: EscalationStep
    due_at: datetime


def cause_of(when: str) -> Cause:
    """`clock.warning` → warning, `clock.breached` → breach (the cause a reminder names)."""
    return "warning" if when == "warning" else "breach"


def steps_for(
    ladder: Sequence[EscalationStep],
    *,
    when: Literal["warning", "breached"],
    stage: str,
    at: datetime,
    calendar: WorkCalendar,
) -> list[DueStep]:
    """The ladder's steps a clock event sets off, each with when it falls due."""
    return [
        DueStep(
            position,
            step,
            at if step.after is None else due_at(at, parse_duration(step.after), calendar),
        )
        for position, step in enumerate(ladder, start=1)
        if step.when == when and step.stage in ("any", stage)
    ]


def stage_done(stage: str, assignment: AssignmentView) -> bool:
    """Whether the unit already did what the clock of `stage` waited for."""
    if stage == "sign_off":
        return assignment.status != QUEUED
    if stage == "contact":
        return CONTACTED in assignment.reported_in
    if stage == "report_in":
        return ON_SITE in assignment.reported_in
    if stage == "resolve":
        return assignment.status == REPORTED_BACK
    return False


def why_skip(stage: str, *, whistle_status: str, assignment: AssignmentView | None) -> str | None:
    """Why a due step must not fire (None: it fires)."""
    if whistle_status != WHISTLE_OPEN:
        return f"the whistle is {whistle_status}"
    if assignment is None:
        return None
    if not is_open(assignment.status):
        return f"the assignment is {assignment.status}"
    if stage_done(stage, assignment):
        return f"the {stage.replace('_', ' ')} stage is done"
    return None
