"""What SLA announces on `sla.events`: clocks and published scores."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from shared.events.envelope import SLA_EVENTS, Payload

ClockStage = Literal["sign_off", "contact", "report_in", "resolve"]


class ClockStarted(Payload):
    """A deadline is running (intake shows the resolve deadline as Open311 expected_datetime)."""

    TYPE: ClassVar[str] = "clock.started"
    TOPIC: ClassVar[str] = SLA_EVENTS
    complaint_id: str
    whistle_id: str
    stage: str
    unit_code: str
    due_at: datetime
    at: datetime
    clock_id: str = ""
    assignment_id: str | None = None


class ClockEvent(Payload):
    """Shared shape of a clock's warning, breach and stop."""

    clock_id: str
    complaint_id: str
    whistle_id: str
    assignment_id: str | None
    stage: str
    unit_code: str
    department_code: str | None = None
    due_at: datetime
    at: datetime


class ClockWarning(ClockEvent):
    TYPE: ClassVar[str] = "clock.warning"
    TOPIC: ClassVar[str] = SLA_EVENTS


class ClockBreached(ClockEvent):
    TYPE: ClassVar[str] = "clock.breached"
    TOPIC: ClassVar[str] = SLA_EVENTS


class ClockStopped(ClockEvent):
    TYPE: ClassVar[str] = "clock.stopped"
    TOPIC: ClassVar[str] = SLA_EVENTS
    status: Literal["met", "breached", "cancelled", "returned"]
    reason: str = ""


class ScorePublished(Payload):
    """A closed period's score of one unit (agency, department or street)."""

    TYPE: ClassVar[str] = "score.published"
    TOPIC: ClassVar[str] = SLA_EVENTS
    period: str
    level: Literal["agency", "department", "street"]
    unit_code: str
    n: int
    score: float | None
    rank: int | None
    band: int | None
    rates: dict[str, float | None] = Field(default_factory=dict)
    at: datetime
