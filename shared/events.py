"""The event envelope and the versioned payload models of every event type (DESIGN.md, "Events").

Payloads carry codes and ids only: no resident name, phone or address text.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.city import Urgency

# Topics
COMPLAINTS = "intake.complaints"
WHISTLES = "dispatch.whistles"
SLA_EVENTS = "sla.events"
REGISTRY_CHANGES = "registry.changes"
ALL_TOPICS = (COMPLAINTS, WHISTLES, SLA_EVENTS, REGISTRY_CHANGES)


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    version: int = 1
    occurred_at: datetime = Field(default_factory=utcnow)
    producer: str
    correlation_id: str
    payload: dict[str, Any]

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        return cls.model_validate_json(raw)

    @classmethod
    def decode(cls, raw: bytes | None) -> Envelope:
        """The envelope in a message, or UndecodableEvent saying why there is none."""
        try:
            return cls.model_validate_json(raw or b"")
        except ValueError as exc:
            raise UndecodableEvent(f"not an event envelope: {exc!s:.300}") from None


class Payload(BaseModel):
    """Base of every payload model. `TYPE`/`VERSION`/`TOPIC` say where it goes."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    TYPE: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[str] = ""

    @classmethod
    def key(cls) -> tuple[str, int]:
        return (cls.TYPE, cls.VERSION)


Role = Literal["lead", "co", "street", "backstop"]


class ComplaintReceived(Payload):
    TYPE: ClassVar[str] = "complaint.received"
    TOPIC: ClassVar[str] = COMPLAINTS
    complaint_id: str
    source: str
    category: str
    urgency: Urgency
    district_code: str
    street_code: str
    community_code: str
    received_at: datetime
    # The registry snapshot version intake placed it with; a consumer holding an older one refreshes.
    snapshot_version: int = 0


class ComplaintMerged(Payload):
    """A near-duplicate was merged into an open complaint (its reporter still gets an answer)."""

    TYPE: ClassVar[str] = "complaint.merged"
    TOPIC: ClassVar[str] = COMPLAINTS
    complaint_id: str
    into_complaint_id: str
    category: str
    street_code: str
    reporter_count: int
    at: datetime


class ComplaintFeedbackRecorded(Payload):
    """The hotline's follow-up call (回访) result."""

    TYPE: ClassVar[str] = "complaint.feedback_recorded"
    TOPIC: ClassVar[str] = COMPLAINTS
    complaint_id: str
    category: str
    street_code: str
    resolved: bool
    satisfaction: Literal["satisfied", "basically_satisfied", "unsatisfied"]
    at: datetime


class ComplaintReopened(Payload):
    """Unresolved or unsatisfied at follow-up: dispatch handles it again (a new round)."""

    TYPE: ClassVar[str] = "complaint.reopened"
    TOPIC: ClassVar[str] = COMPLAINTS
    complaint_id: str
    category: str
    urgency: Urgency
    district_code: str
    street_code: str
    community_code: str
    reason: str
    at: datetime


class ComplaintClosed(Payload):
    TYPE: ClassVar[str] = "complaint.closed"
    TOPIC: ClassVar[str] = COMPLAINTS
    complaint_id: str
    at: datetime


class AssignmentRef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    assignment_id: str
    unit_code: str
    department_code: str | None
    role: Role


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


class AssignmentEvent(Payload):
    """Shared shape of the assignment lifecycle events."""

    whistle_id: str
    complaint_id: str
    assignment_id: str
    unit_code: str
    department_code: str | None
    role: Role
    at: datetime


class AssignmentSignedOff(AssignmentEvent):
    TYPE: ClassVar[str] = "assignment.signed_off"
    TOPIC: ClassVar[str] = WHISTLES


class AssignmentReportedBack(AssignmentEvent):
    TYPE: ClassVar[str] = "assignment.reported_back"
    TOPIC: ClassVar[str] = WHISTLES
    result: Literal["resolved", "partially_resolved", "unresolvable", "explained"]


class WhistleCompleted(Payload):
    TYPE: ClassVar[str] = "whistle.completed"
    TOPIC: ClassVar[str] = WHISTLES
    whistle_id: str
    complaint_id: str
    result: str
    at: datetime


class DispatchRefusedPushdown(Payload):
    TYPE: ClassVar[str] = "dispatch.refused_pushdown"
    TOPIC: ClassVar[str] = WHISTLES
    complaint_id: str
    category: str
    street_code: str
    reason: str
    at: datetime


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


class RegistryChanged(Payload):
    TYPE: ClassVar[str] = "registry.changed"
    TOPIC: ClassVar[str] = REGISTRY_CHANGES
    snapshot_version: int
    changed: list[str] = Field(default_factory=list)


EVENT_MODELS: dict[tuple[str, int], type[Payload]] = {
    m.key(): m
    for m in (
        ComplaintReceived,
        ComplaintMerged,
        ComplaintFeedbackRecorded,
        ComplaintReopened,
        ComplaintClosed,
        ClockStarted,
        WhistleIssued,
        AssignmentSignedOff,
        AssignmentReportedBack,
        WhistleCompleted,
        DispatchRefusedPushdown,
        RegistryChanged,
    )
}


class UnknownEventVersion(Exception):
    """An event type we handle, in a version we do not know: it goes to the DLQ, never guessed at."""


class UndecodableEvent(Exception):
    """Bytes that are not an event envelope at all: they go to the DLQ."""


def envelope_for(payload: Payload, *, producer: str, correlation_id: str) -> Envelope:
    type_, version = payload.key()
    return Envelope(
        type=type_,
        version=version,
        producer=producer,
        correlation_id=correlation_id,
        payload=payload.model_dump(mode="json"),
    )


def parse_payload(envelope: Envelope) -> Payload:
    """The typed payload of an envelope; raises UnknownEventVersion for a version we lack."""
    model = EVENT_MODELS.get((envelope.type, envelope.version))
    if model is None:
        raise UnknownEventVersion(f"{envelope.type} v{envelope.version}")
    return model.model_validate(envelope.payload)
