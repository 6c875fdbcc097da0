from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class AssignmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    whistle_id: str
    complaint_id: str
    unit_code: str
    department_code: str | None
    role: str
    status: str
    result: str | None
    note: str | None
    queued_at: datetime
    signed_off_at: datetime | None
    reported_in_at: datetime | None
    reported_back_at: datetime | None


class WhistleOut(BaseModel):
    id: str
    complaint_id: str
    round: int
    category: str
    urgency: str
    street_code: str
    status: str
    reasons: list[str]
    issued_at: datetime
    completed_at: datetime | None
    assignments: list[AssignmentOut]


class QueuePage(BaseModel):
    items: list[AssignmentOut]
    next_cursor: str | None


class ReportBackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    result: Literal["resolved", "partially_resolved", "unresolvable", "explained"]
    note: str = Field(default="", max_length=4000)
