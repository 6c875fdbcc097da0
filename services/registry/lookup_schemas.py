"""The bodies of `POST /v1/resolve` (where is this point?) and `POST /v1/route` (who answers this?)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from services.registry.schemas import RequestBody
from shared.city import Code


class ResolveIn(RequestBody):
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    community_code: Code | None = None

    @model_validator(mode="after")
    def _one_way(self) -> ResolveIn:
        point = self.lat is not None or self.lon is not None
        if point and (self.lat is None or self.lon is None):
            raise ValueError("give both lat and lon")
        if point == (self.community_code is not None):
            raise ValueError("give either {lat, lon} or {community_code}")
        return self


class Named(BaseModel):
    code: str
    name: str


class ResolvedStreet(Named):
    kind: str


class ResolveOut(BaseModel):
    community: Named
    street: ResolvedStreet
    district: Named
    snapshot_version: int


class RouteIn(RequestBody):
    category: Code
    street_code: Code
    at: AwareDatetime | None = None
    """Route by the rules in force then (default now)."""
    exclude: list[Code] = Field(default_factory=list)
    """Units passed over (those that returned the order)."""


class RouteTarget(BaseModel):
    unit_code: str
    name: str
    department_code: str | None
    role: str


class RuleMatch(BaseModel):
    rule: dict[str, Any]
    applied: bool
    why: str


class RouteOut(BaseModel):
    category: str
    street_code: str
    district_code: str
    at: datetime
    snapshot_version: int
    targets: list[RouteTarget]
    reasons: list[str]
    refused_pushdown: bool
    rules: list[RuleMatch]
    """Each rule in force whose scope covers the street, most specific first; the first applied."""
