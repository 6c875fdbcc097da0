"""What intake announces on `intake.complaints`."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from shared.city import Urgency
from shared.events.envelope import COMPLAINTS, Payload


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
