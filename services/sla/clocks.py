"""Which clocks a whistle starts and how a stopped clock is judged (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.city import SlaPolicy
from shared.events import WhistleIssued
from shared.work_calendar import WorkCalendar, due_at, parse_duration

WHISTLE_LEVEL = ""  # unit_code of clocks that belong to the whole whistle


@dataclass(frozen=True)
class ClockPlan:
    stage: str
    unit_code: str
    assignment_id: str | None
    started_at: datetime
    due_at: datetime


def plan_clocks(whistle: WhistleIssued, policy: SlaPolicy, calendar: WorkCalendar) -> list[ClockPlan]:
    """A sign-off clock per assignment, and one resolve clock for the whistle."""
    start = whistle.issued_at
    sign_off = parse_duration(policy.sign_off)
    plans = [
        ClockPlan("sign_off", a.unit_code, a.assignment_id, start, due_at(start, sign_off, calendar))
        for a in whistle.assignments
    ]
    plans.append(
        ClockPlan(
            "resolve", WHISTLE_LEVEL, None, start, due_at(start, parse_duration(policy.resolve), calendar)
        )
    )
    return plans


def verdict(due: datetime, stopped: datetime) -> str:
    """A clock stopped by its deadline was met; later, breached."""
    return "met" if stopped <= due else "breached"
