"""What the registry's API reads and writes (pydantic). Codes and durations as in `shared.city`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from shared.city import (
    DEFAULT_ESCALATION,
    Attribute,
    Backstop,
    Code,
    Duration,
    EscalationStep,
    Point,
    StructurePolicy,
    SubArea,
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


class RequestBody(BaseModel):
    """A request body: a field the API does not know is refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Lifecycle(_Out):
    created_at: datetime | None = None
    updated_at: datetime | None = None
    retired_at: datetime | None = None


# --- districts, streets, communities, units ----------------------------------------------------------


class DistrictIn(RequestBody):
    code: Code
    name: Name
    backstop: Backstop


class DistrictPatch(RequestBody):
    name: Name | None = None
    backstop_name: Name | None = None


class DistrictOut(Lifecycle):
    code: str
    name: str
    backstop_code: str
    backstop_name: str


class StreetIn(RequestBody):
    code: Code
    district: Code
    name: Name
    kind: StreetKind = "street"
    polygon: list[Point] | None = Field(default=None, min_length=4)
    units: list[StreetUnitSpec] = Field(default_factory=list)
    """The street's own units (六室一队三中心), made with it."""
    served_by: list[Code] = Field(default_factory=list)
    """Agencies that take the new street into the set of streets they serve."""


class StreetPatch(RequestBody):
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


class CommunityIn(RequestBody):
    code: Code
    street: Code
    name: Name
    households: int = Field(default=0, ge=0, le=10_000_000)
    residents: int | None = Field(default=None, ge=0, le=100_000_000)
    area_km2: float | None = Field(default=None, gt=0, le=100_000)
    social_workers: int | None = Field(default=None, ge=0, le=1_000_000)
    polygon: list[Point] = Field(min_length=4)
    sub_areas: list[SubArea] = Field(default_factory=list)


class CommunityPatch(RequestBody):
    street: Code | None = None
    name: Name | None = None
    households: int | None = Field(default=None, ge=0, le=10_000_000)
    residents: int | None = Field(default=None, ge=0, le=100_000_000)
    area_km2: float | None = Field(default=None, gt=0, le=100_000)
    social_workers: int | None = Field(default=None, ge=0, le=1_000_000)
    polygon: list[Point] | None = Field(default=None, min_length=4)
    sub_areas: list[SubArea] | None = None


class CommunityOut(Lifecycle):
    code: str
    street_code: str
    district_code: str
    name: str
    households: int
    residents: int | None = None
    area_km2: float | None = None
    social_workers: int | None = None
    sub_areas: list[dict[str, Any]] = Field(default_factory=list)
    bbox: list[float] = Field(min_length=4, max_length=4)
    """[min_lon, min_lat, max_lon, max_lat] (a list in the schema: OpenAPI tools read tuples poorly)"""


class CommunityDetail(CommunityOut):
    geometry: dict[str, Any]
    """GeoJSON Polygon ([lon, lat], WGS84)."""


class StreetUnitIn(RequestBody):
    code: Code
    street: Code
    name: Name
    kind: UnitKind


class StreetUnitPatch(RequestBody):
    name: Name | None = None
    kind: UnitKind | None = None


class StreetUnitOut(Lifecycle):
    code: str
    street_code: str
    name: str
    kind: str


# --- departments and agencies ------------------------------------------------------------------------


class DepartmentIn(RequestBody):
    code: Code
    name: Name
    kind: Code
    level: Level = "district"
    parent: Code | None = None


class DepartmentPatch(RequestBody):
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


class AgencyIn(RequestBody):
    code: Code
    department: Code
    district: Code
    name: Name
    serves: list[Code] = Field(default_factory=list)


class AgencyPatch(RequestBody):
    name: Name | None = None
    serves: list[Code] | None = None


class AgencyOut(Lifecycle):
    code: str
    department_code: str
    district_code: str
    name: str
    serves: list[str]


# --- categories and the duty list --------------------------------------------------------------------


class CategoryIn(RequestBody):
    code: Code
    name: Name
    name_en: str = ""
    group: str = ""
    description: str = ""
    keywords: list[str] = Field(default_factory=list)
    urgency: Urgency = "normal"
    attributes: list[Attribute] = Field(default_factory=list)


class CategoryPatch(RequestBody):
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


class DutyBlockIn(RequestBody):
    code: Code
    name: Name


class DutyBlockPatch(RequestBody):
    name: Name | None = None
    position: int | None = Field(default=None, ge=0)


class DutyItemIn(RequestBody):
    code: Code
    block: Code
    name: Name
    categories: list[Code] = Field(default_factory=list)


class DutyItemPatch(RequestBody):
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


class RuleTarget(RequestBody):
    street_unit_kind: UnitKind | None = None
    street_unit: Code | None = None
    community_committee: bool = False
    """The committee of the complaint's community (only for a matter on the community duty list)."""
    lead: Code | None = None
    co: list[Code] = Field(default_factory=list)


class RuleIn(RuleTarget):
    category: Code
    district: Code | None = None
    street: Code | None = None
    effective_from: AwareDatetime | None = None
    """Default: now."""
    effective_to: AwareDatetime | None = None


class RulePatch(RequestBody):
    """A new version of the rule's target from `effective_from` (default now); the old one ends then."""

    street_unit_kind: UnitKind | None = None
    street_unit: Code | None = None
    community_committee: bool | None = None
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
    community_committee: bool = False
    lead: str | None
    co: list[str]
    effective_from: datetime | None
    effective_to: datetime | None
    supersedes: int | None = None
    created_at: datetime | None = None
    in_force: bool = False


class SlaPolicyIn(RequestBody):
    sign_off: Duration
    contact: Duration
    report_in: Duration
    resolve: Duration
    warn_at: float = Field(default=0.8, gt=0, lt=1)
    effective_from: AwareDatetime | None = None


class ScoringPolicyIn(RequestBody):
    """Weights are relative (they need not sum to 1), each at most 100."""

    response: float = Field(ge=0, le=100)
    resolution: float = Field(ge=0, le=100)
    satisfaction: float = Field(ge=0, le=100)
    on_time: float = Field(ge=0, le=100)
    street_evaluation: float = Field(ge=0, le=100)
    min_sample: int = Field(default=5, ge=1, le=1_000_000)
    basically_satisfied: float = Field(default=0.8, ge=0, le=1)
    whistle_rate_low: float = Field(default=0.5, ge=0, le=10_000)
    whistle_rate_high: float = Field(default=10.0, gt=0, le=10_000)
    effective_from: AwareDatetime | None = None


class DispatchPolicyIn(RequestBody):
    bounce_limit: int = Field(default=2, ge=1)
    escalation: list[EscalationStep] = Field(default_factory=lambda: list(DEFAULT_ESCALATION))
    community_whistle_desk: list[Code] = Field(default_factory=lambda: ["grid-centre", "citizen-centre"])
    effective_from: AwareDatetime | None = None


class StructurePolicyIn(StructurePolicy):
    """The structure's size standards (`shared.city.StructurePolicy`), in force from `effective_from`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    effective_from: AwareDatetime | None = None


class PolicyOut(_Out):
    id: int
    kind: Literal["sla", "scoring", "dispatch", "structure"]
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


class CalendarOverrideIn(RequestBody):
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
    district: str | None = None


class Written(BaseModel, Generic[T]):
    """What a write returns: the entity as it now stands and the snapshot version it made."""

    snapshot_version: int
    item: T
