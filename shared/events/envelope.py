"""The event envelope, the payload base class and the topics (DESIGN.md, "Events")."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

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


class UnknownEventVersion(Exception):
    """An event type we handle, in a version we do not know: it goes to the DLQ, never guessed at."""


class UndecodableEvent(Exception):
    """Bytes that are not an event envelope at all: they go to the DLQ."""
