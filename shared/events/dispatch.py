"""What dispatch announces on `dispatch.whistles`: whistles and what happens to their assignments."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.city import Urgency
from shared.events.envelope import WHISTLES, Payload

Role = Literal["lead", "co", "street", "backstop", "community"]


class AssignmentRef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    assignment_id: str
    unit_code: str
    department_code: str | None
    role: Role


WhistleKind = Literal[
    "duty_street", "department", "backstop", "street_whistle", "community_whistle", "duty_community"
]
"""How a whistle came about: a duty-list matter for the street's own unit, departments summoned by
the rules, the district backstop (no owner), a street's own whistle (吹哨), a community's (社区吹哨),
or a community duty-list matter for the community's committee."""


class WhistleIssued(Payload):
    TYPE: ClassVar[str] = "whistle.issued"
    TOPIC: ClassVar[str] = WHISTLES
    whistle_id: str
    complaint_id: str
    category: str
    urgency: Urgency
    street_code: str
    issued_at: datetime
    assignments: list[AssignmentRef]
    reasons: list[str] = Field(default_factory=list)
    kind: WhistleKind = "department"
    district_code: str = ""
    round: int = 1
    # The whistle this one answers (a street whistling departments for a community's whistle).
    parent_whistle_id: str | None = None
    # Whether the category asks for a visit (报到 on site): SLA then runs a report_in clock.
    visit_required: bool = False


class AssignmentEvent(Payload):
    """Shared shape of the assignment lifecycle events."""

    whistle_id: str
    complaint_id: str
    assignment_id: str
    unit_code: str
    department_code: str | None
    role: Role
    at: datetime


class AssignmentQueued(AssignmentEvent):
    """An assignment added to a whistle after it was issued (a re-route, the backstop joining)."""

    TYPE: ClassVar[str] = "assignment.queued"
    TOPIC: ClassVar[str] = WHISTLES
    urgency: Urgency = "normal"
    category: str = ""


class AssignmentSignedOff(AssignmentEvent):
    TYPE: ClassVar[str] = "assignment.signed_off"
    TOPIC: ClassVar[str] = WHISTLES


class AssignmentReportedIn(AssignmentEvent):
    """报到: the unit contacted the resident, or is on site."""

    TYPE: ClassVar[str] = "assignment.reported_in"
    TOPIC: ClassVar[str] = WHISTLES
    kind: Literal["contacted", "on_site"]


ReportResult = Literal["resolved", "partially_resolved", "unresolvable", "explained"]


class AssignmentReportedBack(AssignmentEvent):
    TYPE: ClassVar[str] = "assignment.reported_back"
    TOPIC: ClassVar[str] = WHISTLES
    result: ReportResult


ReturnReason = Literal["not_our_duty", "wrong_area", "duplicate", "other"]


class AssignmentReturned(AssignmentEvent):
    """退单: the unit sent the order back; `returns` counts the complaint's returns so far."""

    TYPE: ClassVar[str] = "assignment.returned"
    TOPIC: ClassVar[str] = WHISTLES
    reason: ReturnReason
    returns: int = 1


class AssignmentRerouted(Payload):
    """A returned order went to another unit (`to`), or to the district backstop after the bounce limit."""

    TYPE: ClassVar[str] = "assignment.rerouted"
    TOPIC: ClassVar[str] = WHISTLES
    whistle_id: str
    complaint_id: str
    from_assignment_id: str
    from_unit_code: str
    to: AssignmentRef
    reason: str
    to_backstop: bool = False
    at: datetime


class AssignmentExtended(AssignmentEvent):
    """延期 approved: the assignment's running deadlines move — by `working_days`, or to `until`."""

    TYPE: ClassVar[str] = "assignment.extended"
    TOPIC: ClassVar[str] = WHISTLES
    extension_id: str
    working_days: int | None = None
    until: datetime | None = None
    approved_by: str = ""


class AssignmentReminded(AssignmentEvent):
    """The unit was reminded of a deadline (a warning, or the first step after a breach)."""

    TYPE: ClassVar[str] = "assignment.reminded"
    TOPIC: ClassVar[str] = WHISTLES
    stage: str
    cause: Literal["warning", "breach"]


class AssignmentClosed(AssignmentEvent):
    """An open assignment ended without an answer of its own: not needed (the answering unit reported
    back) or withdrawn (its round was superseded)."""

    TYPE: ClassVar[str] = "assignment.closed"
    TOPIC: ClassVar[str] = WHISTLES
    reason: Literal["not_needed", "withdrawn"]


class WhistleEscalated(Payload):
    """A breached deadline went up the ladder: to the district command centre, or the backstop joined."""

    TYPE: ClassVar[str] = "whistle.escalated"
    TOPIC: ClassVar[str] = WHISTLES
    whistle_id: str
    complaint_id: str
    district_code: str
    stage: str
    unit_code: str
    action: Literal["district", "backstop_joins"]
    step: int
    at: datetime


class WhistleCompleted(Payload):
    TYPE: ClassVar[str] = "whistle.completed"
    TOPIC: ClassVar[str] = WHISTLES
    whistle_id: str
    complaint_id: str
    result: str
    at: datetime
    unit_code: str = ""  # the answering unit


class WhistleSuperseded(Payload):
    """A reopened complaint's earlier round ends: a new whistle handles it."""

    TYPE: ClassVar[str] = "whistle.superseded"
    TOPIC: ClassVar[str] = WHISTLES
    whistle_id: str
    complaint_id: str
    at: datetime


class DispatchRefusedPushdown(Payload):
    TYPE: ClassVar[str] = "dispatch.refused_pushdown"
    TOPIC: ClassVar[str] = WHISTLES
    complaint_id: str
    category: str
    street_code: str
    reason: str
    at: datetime
    # Which level the refused rule aimed at: the street, or a community committee.
    level: Literal["street", "community"] = "street"
