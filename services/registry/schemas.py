"""What the registry's API reads and writes (pydantic). Codes and durations as in `shared.city`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.city import (
    Attribute,
    Backstop,
    Code,
    Duration,
    Point,
    UnitKind,
    Urgency,
)
from shared.city import StreetUnit as StreetUnitSpec

T = TypeVar("T")
StreetKind = Literal["street", "township", "area"]
Level = Literal["city", "district"]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Lifecycle(_Out):
    created_at: datetime | None = None
    updated_at: datetime | None = None
    retired_at: datetime | None = None


# --- districts, streets, communities, units ----------------------------------------------------------


class DistrictIn(_In):
    code: Code
    name: Name
    backstop: Backstop


class DistrictPatch(_In):
    name: Name | None = None
    backstop_name: Name | None = None


class DistrictOut(Lifecycle):
    code: str
    name: str
    backstop_code: str
    backstop_name: str


class StreetIn(_In):
    code: Code
    district: Code
    name: Name
    kind: StreetKind = "street"
    polygon: list[Point] | None = Field(default=None, min_length=4)
    units: list[StreetUnitSpec] = Field(default_factory=list)
    """The street's own units (六室一队三中心), made with it."""
    served_by: list[Code] = Field(default_factory=list)
    """Agencies that take the new street into the set of streets they serve."""


class StreetPatch(_In):
    name: Name | None = None
    kind: StreetKind | None = None
    polygon: list[Point] | None = Field(default=None, min_length=4)
    """A stored boundary; null clears it (the union of the communities is served instead)."""


class StreetOut(Lifecycle):
    code: str
    district_code: str
    name: str
    kind: str
    boundary: Literal["stored", "communities"]


class StreetDetail(StreetOut):
    geometry: dict[str, Any] | None
    """GeoJSON: the stored boundary, or the union of the street's communities (None if it has none)."""


class CommunityIn(_In):
    code: Code
    street: Code
    name: Name
    households: int = Field(default=0, ge=0)
    polygon: list[Point] = Field(min_length=4)


class CommunityPatch(_In):
    street: Code | None = None
    name: Name | None = None
    households: int | None = Field(default=None, ge=0)
    polygon: list[Point] | None = Field(default=None, min_length=4)


class CommunityOut(Lifecycle):
    code: str
    street_code: str
    district_code: str
    name: str
    households: int
    bbox: tuple[float, float, float, float]
    """[min_lon, min_lat, max_lon, max_lat]"""


class CommunityDetail(CommunityOut):
    geometry: dict[str, Any]
    """GeoJSON Polygon ([lon, lat], WGS84)."""


class StreetUnitIn(_In):
    code: Code
    street: Code
    name: Name
    kind: UnitKind


class StreetUnitPatch(_In):
    name: Name | None = None
    kind: UnitKind | None = None


class StreetUnitOut(Lifecycle):
    code: str
    street_code: str
    name: str
    kind: str


# --- departments and agencies ------------------------------------------------------------------------


class DepartmentIn(_In):
    code: Code
    name: Name
    kind: Code
    level: Level = "district"
    parent: Code | None = None


class DepartmentPatch(_In):
    name: Name | None = None
    kind: Code | None = None
    level: Level | None = None
    parent: Code | None = None


class DepartmentOut(Lifecycle):
    code: str
    name: str
    kind: str
    level: str
    parent_code: str | None


class AgencyIn(_In):
    code: Code
    department: Code
    district: Code
    name: Name
    serves: list[Code] = Field(default_factory=list)


class AgencyPatch(_In):
    name: Name | None = None
    serves: list[Code] | None = None


class AgencyOut(Lifecycle):
    code: str
    department_code: str
    district_code: str
    name: str
    serves: list[str]


# --- categories and the duty list --------------------------------------------------------------------


class CategoryIn(_In):
    code: Code
    name: Name
    name_en: str = ""
    group: str = ""
    description: str = ""
    keywords: list[str] = Field(default_factory=list)
    urgency: Urgency = "normal"
    attributes: list[Attribute] = Field(default_factory=list)


class CategoryPatch(_In):
    name: Name | None = None
    name_en: str | None = None
    group: str | None = None
    description: str | None = None
    keywords: list[str] | None = None
    urgency: Urgency | None = None
    attributes: list[Attribute] | None = None


class CategoryOut(Lifecycle):
    code: str
    name: str
    name_en: str
    group: str
    description: str
    keywords: list[str]
    urgency: str
    attributes: list[dict[str, Any]]


class DutyBlockIn(_In):
    code: Code
    name: Name


class DutyBlockPatch(_In):
    name: Name | None = None
    position: int | None = Field(default=None, ge=0)


class DutyItemIn(_In):
    code: Code
    block: Code
    name: Name
    categories: list[Code] = Field(default_factory=list)


class DutyItemPatch(_In):
    name: Name | None = None
    categories: list[Code] | None = None


class DutyItemOut(Lifecycle):
    code: str
    block_code: str
    name: str
    categories: list[str]
    position: int


class DutyBlockOut(Lifecycle):
    code: str
    name: str
    position: int
    items: list[DutyItemOut]


# --- rules and policies ------------------------------------------------------------------------------


class RuleTarget(_In):
    street_unit_kind: UnitKind | None = None
    street_unit: Code | None = None
    lead: Code | None = None
    co: list[Code] = Field(default_factory=list)


class RuleIn(RuleTarget):
    category: Code
    district: Code | None = None
    street: Code | None = None
    effective_from: AwareDatetime | None = None
    """Default: now."""
    effective_to: AwareDatetime | None = None


class RulePatch(_In):
    """A new version of the rule's target from `effective_from` (default now); the old one ends then."""

    street_unit_kind: UnitKind | None = None
    street_unit: Code | None = None
    lead: Code | None = None
    co: list[Code] | None = None
    effective_from: AwareDatetime | None = None


class RuleOut(_Out):
    id: int
    category: str
    district: str | None
    street: str | None
    street_unit_kind: str | None
    street_unit: str | None
    lead: str | None
    co: list[str]
    effective_from: datetime | None
    effective_to: datetime | None
    supersedes: int | None = None
    created_at: datetime | None = None
    in_force: bool = False


class SlaPolicyIn(_In):
    sign_off: Duration
    contact: Duration
    report_in: Duration
    resolve: Duration
    effective_from: AwareDatetime | None = None


class ScoringPolicyIn(_In):
    response: float = Field(ge=0)
    resolution: float = Field(ge=0)
    satisfaction: float = Field(ge=0)
    on_time: float = Field(ge=0)
    street_evaluation: float = Field(ge=0)
    min_sample: int = Field(default=5, ge=1)
    effective_from: AwareDatetime | None = None


class PolicyOut(_Out):
    id: int
    kind: Literal["sla", "scoring"]
    urgency: str | None
    body: dict[str, Any]
    effective_from: datetime | None
    effective_to: datetime | None
    supersedes: int | None = None
    created_at: datetime | None = None
    in_force: bool = False


# --- calendar and clients ----------------------------------------------------------------------------


class CalendarDay(BaseModel):
    date: date
    workday: bool
    source: Literal["override", "official", "weekday"]
    """Who decided: a local override, the official calendar, or Monday–Friday (years without data)."""
    name: str = ""


class CalendarOverrideIn(_In):
    workday: bool
    name: str = Field(default="", max_length=200)


class CalendarOverrideOut(Lifecycle):
    date: date
    workday: bool
    name: str


class ClientOut(_Out):
    client_id: str
    kind: str
    department: str | None
    street: str | None


# --- resolve and route -------------------------------------------------------------------------------


class ResolveIn(_In):
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


class RouteIn(_In):
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


class Written(BaseModel, Generic[T]):
    """What a write returns: the entity as it now stands and the snapshot version it made."""

    snapshot_version: int
    item: T
