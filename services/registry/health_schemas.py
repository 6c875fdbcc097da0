"""What `GET /v1/structure/health` answers."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from shared.city import Band, StructurePolicy


class FindingOut(BaseModel):
    level: str
    code: str
    name: str
    district_code: str
    street_code: str
    measure: str
    value: float
    band: Band
    flag: str
    """`over`, `under`, or `super_community` (over the households at which a community is split)."""
    off_by: float
    """How far outside the band, as a share of the bound crossed."""
    standard: str


class HealthOut(BaseModel):
    snapshot_version: int
    at: datetime
    policy: StructurePolicy
    """The standards in force at `at`."""
    streets: int
    communities: int
    findings: list[FindingOut]
    """Every street and community outside a band, furthest out first."""
