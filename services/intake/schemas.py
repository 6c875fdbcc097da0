"""Intake's request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Location(BaseModel):
    model_config = ConfigDict(extra="forbid")
    community_code: str | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    @model_validator(mode="after")
    def _one_way_to_place_it(self) -> Location:
        if self.community_code is None and (self.lat is None or self.lon is None):
            raise ValueError("give community_code, or both lat and lon")
        return self


class Reporter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=32, pattern=r"^\+?[0-9 \-]{3,32}$")


class ComplaintIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str = Field(min_length=1, max_length=64)
    source_ref: str = Field(min_length=1, max_length=128)
    category: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=1, max_length=4000)
    urgency: Literal["emergency", "urgent", "normal", "complex"] | None = None
    location: Location
    reporter: Reporter = Field(default_factory=Reporter)


class ReporterOut(BaseModel):
    name: str | None
    phone: str | None


class ComplaintOut(BaseModel):
    id: str
    status: str
    source: str
    source_ref: str
    category: str
    urgency: str
    description: str
    district_code: str
    street_code: str
    community_code: str
    lat: float | None
    lon: float | None
    tracking_token: str
    reporter: ReporterOut
    created_at: datetime
    updated_at: datetime
