"""The event contract between the services (DESIGN.md, "Events"): the envelope and topics
(`envelope`), and the versioned payload of every event type, by the topic it goes on
(`complaints`, `dispatch`, `sla`; `registry.changed` here).

Payloads carry codes and ids only: no resident name, phone or address text.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from shared.events.complaints import (
    ComplaintClosed,
    ComplaintFeedbackRecorded,
    ComplaintMerged,
    ComplaintReceived,
    ComplaintReopened,
)
from shared.events.dispatch import (
    AssignmentClosed,
    AssignmentEvent,
    AssignmentExtended,
    AssignmentQueued,
    AssignmentRef,
    AssignmentReminded,
    AssignmentReportedBack,
    AssignmentReportedIn,
    AssignmentRerouted,
    AssignmentReturned,
    AssignmentSignedOff,
    DispatchRefusedPushdown,
    ReportResult,
    ReturnReason,
    Role,
    WhistleCompleted,
    WhistleEscalated,
    WhistleIssued,
    WhistleKind,
    WhistleSuperseded,
)
from shared.events.envelope import (
    ALL_TOPICS,
    COMPLAINTS,
    REGISTRY_CHANGES,
    SLA_EVENTS,
    WHISTLES,
    Envelope,
    Payload,
    UndecodableEvent,
    UnknownEventVersion,
    dlq_topic,
    utcnow,
)
from shared.events.sla import (
    ClockBreached,
    ClockEvent,
    ClockStage,
    ClockStarted,
    ClockStopped,
    ClockWarning,
    ScorePublished,
)


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
        ClockWarning,
        ClockBreached,
        ClockStopped,
        ScorePublished,
        WhistleIssued,
        AssignmentQueued,
        AssignmentSignedOff,
        AssignmentReportedIn,
        AssignmentReportedBack,
        AssignmentReturned,
        AssignmentRerouted,
        AssignmentExtended,
        AssignmentReminded,
        AssignmentClosed,
        WhistleEscalated,
        WhistleCompleted,
        WhistleSuperseded,
        DispatchRefusedPushdown,
        RegistryChanged,
    )
}


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


__all__ = [
    "ALL_TOPICS",
    "COMPLAINTS",
    "EVENT_MODELS",
    "REGISTRY_CHANGES",
    "SLA_EVENTS",
    "WHISTLES",
    "AssignmentClosed",
    "AssignmentEvent",
    "AssignmentExtended",
    "AssignmentQueued",
    "AssignmentRef",
    "AssignmentReminded",
    "AssignmentReportedBack",
    "AssignmentReportedIn",
    "AssignmentRerouted",
    "AssignmentReturned",
    "AssignmentSignedOff",
    "ClockBreached",
    "ClockEvent",
    "ClockStage",
    "ClockStarted",
    "ClockStopped",
    "ClockWarning",
    "ComplaintClosed",
    "ComplaintFeedbackRecorded",
    "ComplaintMerged",
    "ComplaintReceived",
    "ComplaintReopened",
    "DispatchRefusedPushdown",
    "Envelope",
    "Payload",
    "RegistryChanged",
    "ReportResult",
    "ReturnReason",
    "Role",
    "ScorePublished",
    "UndecodableEvent",
    "UnknownEventVersion",
    "WhistleCompleted",
    "WhistleEscalated",
    "WhistleIssued",
    "WhistleKind",
    "WhistleSuperseded",
    "dlq_topic",
    "envelope_for",
    "parse_payload",
    "utcnow",
]
