"""Intake's `/v1` request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.city import Urgency

Satisfaction = Literal["satisfied", "basically_satisfied", "unsatisfied"]
MAX_DESCRIPTION = 4000
AttributeValue = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class Location(BaseModel):
    """Where: a point, or a community code; a resident's address text may come with either."""

    model_config = ConfigDict(extra="forbid")
    community_code: str | None = Field(default=None, max_length=64)
    sub_area_code: str | None = Field(
        default=None,
        max_length=64,
        description="a residents' group or building/courtyard unit of the community",
    )
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    address: str | None = Field(default=None, min_length=1, max_length=500)

    @model_validator(mode="after")
    def _one_way_to_place_it(self) -> Location:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon")
        if self.community_code is None and self.lat is None:
            what = "an address alone cannot be placed: " if self.address else ""
            raise ValueError(f"{what}give community_code, or both lat and lon")
        return self


class Reporter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=100)
    phone: str | None = Field(default=None, max_length=32, pattern=r"^\+?[0-9][0-9 \-]{2,31}$")
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ComplaintIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    # The source's own reference (its ticket number); without one, send an Idempotency-Key header.
    source_ref: str | None = Field(default=None, min_length=1, max_length=128)
    category: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=1, max_length=MAX_DESCRIPTION)
    urgency: Urgency | None = None
    location: Location
    attributes: dict[str, AttributeValue | list[AttributeValue]] = Field(default_factory=dict, max_length=50)
    media_urls: list[AnyHttpUrl] = Field(default_factory=list, max_length=10)
    reporter: Reporter = Field(default_factory=Reporter)


class FeedbackIn(BaseModel):
    """The follow-up call (回访)."""

    model_config = ConfigDict(extra="forbid")
    resolved: bool
    satisfaction: Satisfaction
    comment: str = Field(default="", max_length=2000)


class ReporterOut(BaseModel):
    """Always masked here; the full contact is only at the audited `/contact`."""

    name: str | None
    phone: str | None


class ComplaintOut(BaseModel):
    id: str
    status: str
    source: str
    source_ref: str | None
    category: str
    urgency: str
    description: str
    attributes: dict[str, str | list[str]]
    media_urls: list[str]
    district_code: str
    street_code: str
    community_code: str
    sub_area_code: str | None = None  # the residents' group or building/courtyard unit named
    lat: float | None
    lon: float | None
    # True: the position is the community's representative point (placed by community code or
    # address), not a point the resident gave.
    approximate: bool = False
    place: str | None  # the community in words (district, street, community)
    address: str | None  # the resident's own address text, masked
    tracking_token: str
    reporter: ReporterOut
    reporter_count: int
    merged_into: str | None
    agency_responsible: str | None
    expected_at: datetime | None
    # A resident asked (through Open311) for a follow-up of the resolved complaint; the hotline's
    # next follow-up result clears it.
    followup_requested: bool = False
    followup_requested_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class ComplaintPage(BaseModel):
    items: list[ComplaintOut]
    next_cursor: str | None


class TimelineEntry(BaseModel):
    id: int
    status: str
    # The change it records (see services/intake/status.py), and a resolved entry's result.
    kind: str
    result: str | None = None
    at: datetime
    unit_code: str | None
    unit_name: str | None
    note: str


class FeedbackOut(BaseModel):
    complaint_id: str
    status: str
    resolved: bool
    satisfaction: Satisfaction
    comment: str
    reopened_complaint_id: str | None
    at: datetime


class ContactOut(BaseModel):
    complaint_id: str
    name: str | None
    phone: str | None
    email: str | None
    address: str | None


class ResidentUpdateOut(BaseModel):
    """A resident's own update of their complaint, sent through an Open311 client."""

    update_id: str  # as the client was given it (the update's timeline entry)
    client_id: str
    client_update_id: str
    status_sent: str
    says: Literal["not_fixed", "fixed", "comment"]
    followup_requested: bool
    description: str
    media_url: str | None
    name: str | None  # masked
    email: str | None  # masked
    phone: str | None  # masked
    updated_datetime: datetime | None
    recorded_at: datetime
