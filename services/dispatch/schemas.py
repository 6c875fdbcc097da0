"""What dispatch's API takes and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.dispatch.leases import (
    DEFAULT_LEASE_SECONDS,
    MAX_CLAIM,
    MAX_LEASE_SECONDS,
    MAX_WAIT_SECONDS,
    MIN_LEASE_SECONDS,
    WORKER_NAME_MAX,
)
from shared.city import Urgency
from shared.events import ReportResult, ReturnReason

Note = Field(default="", max_length=4000)
Worker = Field(
    default=None, min_length=1, max_length=WORKER_NAME_MAX, description="the worker holding the claim"
)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- requests ---


class ClaimIn(Body):
    worker: str = Field(min_length=1, max_length=WORKER_NAME_MAX)
    max: int = Field(default=10, ge=1, le=MAX_CLAIM)
    wait_seconds: float = Field(default=0, ge=0, le=MAX_WAIT_SECONDS)
    lease_seconds: int = Field(default=DEFAULT_LEASE_SECONDS, ge=MIN_LEASE_SECONDS, le=MAX_LEASE_SECONDS)
    sign_off: bool = Field(
        default=False,
        description=(
            "签收 what the claim hands out, in the same transaction: queued orders come back "
            "signed_off (one assignment.signed_off each); orders signed off before stay as they are"
        ),
    )


class ActionIn(Body):
    """sign-off and release: only the worker holding the claim, if any."""

    worker: str | None = Worker


class ReportInIn(Body):
    kind: Literal["contacted", "on_site"]
    at: datetime | None = Field(
        default=None, description="when (default now); not before the order was queued"
    )
    note: str = Note
    worker: str | None = Worker


class ReportBackIn(Body):
    result: ReportResult
    note: str = Note
    worker: str | None = Worker


class ReturnIn(Body):
    reason: ReturnReason
    note: str = Note
    worker: str | None = Worker


class ExtensionIn(Body):
    working_days: int | None = Field(default=None, description="move each running deadline N working days")
    until: datetime | None = Field(default=None, description="or set it to this time")
    reason: str = Field(max_length=2000)
    worker: str | None = Worker


class DecisionIn(Body):
    note: str = Note


class LocationIn(Body):
    community_code: str | None = Field(default=None, max_length=64)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    detail: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _both_or_neither(self) -> LocationIn:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give lat and lon together")
        return self


class StreetWhistleIn(Body):
    category: str = Field(max_length=64)
    description: str = Field(min_length=1, max_length=4000)
    location: LocationIn = Field(default_factory=LocationIn)
    urgency: Urgency | None = None
    departments: list[str] = Field(default_factory=list, max_length=10)
    communities: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="community committees handed the matter (only for one on the community duty list)",
    )
    reason: str = Field(min_length=1, max_length=2000, description="why the street cannot solve it alone")
    parent_whistle_id: str | None = Field(
        default=None, max_length=36, description="the community's whistle this one answers"
    )


class CommunityWhistleIn(Body):
    """社区吹哨: a community committee summons its street for a matter it cannot solve alone."""

    category: str = Field(max_length=64)
    description: str = Field(min_length=1, max_length=4000)
    location: LocationIn = Field(default_factory=LocationIn)
    urgency: Urgency | None = None
    reason: str = Field(min_length=1, max_length=2000, description="why the community cannot solve it alone")


# --- answers ---


class LeaseOut(BaseModel):
    worker: str
    expires_at: datetime


class AssignmentOut(BaseModel):
    id: str
    whistle_id: str
    complaint_id: str
    unit_code: str
    department_code: str | None
    role: str
    status: str
    allowed_actions: list[str]
    lease: LeaseOut | None
    result: str | None
    note: str | None
    report_in_note: str | None
    return_reason: str | None
    return_note: str | None
    queued_at: datetime
    signed_off_at: datetime | None
    reported_in_at: datetime | None
    contacted_at: datetime | None
    on_site_at: datetime | None
    reported_back_at: datetime | None
    returned_at: datetime | None
    closed_at: datetime | None


class EscalationOut(BaseModel):
    position: int
    cause: str
    stage: str
    action: str
    unit_code: str
    due_at: datetime
    fired_at: datetime | None
    outcome: str | None
    detail: str | None


class ChainLinkOut(BaseModel):
    whistle_id: str
    parent_whistle_id: str | None
    kind: str
    street_code: str
    community_code: str | None
    status: str
    issued_at: datetime
    units: list[str]


class WhistleOut(BaseModel):
    id: str
    complaint_id: str
    round: int
    kind: str
    category: str
    urgency: str
    district_code: str
    street_code: str
    status: str
    visit_required: bool
    reasons: list[str]
    issued_at: datetime
    completed_at: datetime | None
    description: str | None = None
    location: dict[str, object] | None = None
    reason: str | None = None
    blown_by: str | None = None
    assignments: list[AssignmentOut]
    escalations: list[EscalationOut] = Field(default_factory=list)
    parent_whistle_id: str | None = None
    community_code: str | None = None
    chain: list[ChainLinkOut] = Field(default_factory=list)
    """The chain this whistle is part of (community → street → departments), root first; empty
    for a whistle that stands alone."""


class QueuePage(BaseModel):
    items: list[AssignmentOut]
    next_cursor: str | None


class ClaimOut(BaseModel):
    items: list[AssignmentOut]
    lease_expires_at: datetime | None


class WhistlePage(BaseModel):
    items: list[WhistleOut]
    next_cursor: str | None


class ExtensionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    assignment_id: str
    whistle_id: str
    complaint_id: str
    unit_code: str
    department_code: str | None
    street_code: str
    district_code: str
    status: str
    working_days: int | None
    until: datetime | None
    reason: str
    requested_by: str
    worker: str | None
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None


class ExtensionPage(BaseModel):
    items: list[ExtensionOut]
    next_cursor: str | None


class EscalatedWhistleOut(BaseModel):
    escalation_id: int
    escalated_at: datetime
    stage: str
    unit_code: str
    whistle: WhistleOut


class EscalationPage(BaseModel):
    items: list[EscalatedWhistleOut]
    next_cursor: str | None
