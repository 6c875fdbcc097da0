"""What SLA's API takes and shows."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.sla.tallies import Level


class ClockOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    clock_id: str
    complaint_id: str
    whistle_id: str
    assignment_id: str | None
    unit_code: str
    department_code: str | None
    role: str
    stage: str
    status: str
    reason: str
    started_at: datetime
    due_at: datetime
    warn_at: datetime
    warned_at: datetime | None
    breached_at: datetime | None
    stopped_at: datetime | None
    extension_id: str | None


class EvaluationBody(BaseModel):
    """Ranges and codes are checked together with the rest, so every problem shows at once."""

    model_config = ConfigDict(extra="forbid")
    unit_code: str = Field(max_length=64)
    period: str = Field(max_length=16)
    score: float
    comment: str | None = None


class EvaluationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    period: str
    street_code: str
    unit_code: str
    department_code: str | None
    score: float
    comment: str
    evaluated_by: str
    created_at: datetime
    updated_at: datetime


class RateOut(BaseModel):
    rate: float | None
    n: int
    interval: list[float | None] | None = Field(description="the 95 % Wilson interval [low, high]")


class ScoreOut(BaseModel):
    unit_code: str
    level: Level
    n: int = Field(description="cases (complaints) that counted")
    score: float | None = Field(description="0–100")
    score_interval: list[float | None] | None
    eligible: bool = Field(description="at least the policy's min_sample cases")
    rank: int | None
    band: int | None
    rates: dict[str, RateOut]


class ScoresOut(BaseModel):
    period: str
    level: Level
    closed: bool
    items: list[ScoreOut]


class RankingOut(BaseModel):
    unit_code: str
    rank: int | None = Field(description="null when not eligible; shared within a band")
    band: int | None
    score: float | None
    n: int
    eligible: bool


class RankingsOut(BaseModel):
    period: str
    level: Level
    closed: bool
    items: list[RankingOut]


class CaseOut(BaseModel):
    complaint_id: str
    whistle_id: str
    assignment_id: str | None
    unit_code: str
    measure: str
    outcome: str
    at: datetime
    reason: str
    value: float | None = None
    contributes: float | None = Field(default=None, description="points this case adds to the score")


class EvaluationCountedOut(BaseModel):
    period: str
    street_code: str
    unit_code: str
    score: float
    contributes: float


class PolicyOut(BaseModel):
    weights: dict[str, float]
    min_sample: int
    basically_satisfied: float


class ScorecardOut(BaseModel):
    unit_code: str
    level: Level
    period: str
    from_: datetime = Field(alias="from")
    to: datetime
    policy: PolicyOut
    n: int
    score: float | None
    score_interval: list[float | None] | None
    eligible: bool
    rates: dict[str, RateOut]
    shares: dict[str, float | None]
    counted: list[CaseOut]
    excluded: list[CaseOut]
    evaluations: list[EvaluationCountedOut]
    published: ScoreOut | None = None


class WhistleRateOut(BaseModel):
    street_code: str
    whistles: int
    households: int
    per_10k_households: float | None
    band: list[float]
    flag: Literal["low", "ok", "high", "no_households"]


class WhistleRatesOut(BaseModel):
    period: str
    items: list[WhistleRateOut]


class PeriodOut(BaseModel):
    period: str
    closed: bool
    closed_at: datetime | None = None
    closed_by: str | None = None
    published: int | None = Field(default=None, description="score.published events written")
