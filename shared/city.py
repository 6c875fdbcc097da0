"""The city model: what `whistle seed` loads into the registry and what its snapshot serves.

A city file is YAML (or JSON) with the shape of `CityData`. Codes are lowercase ASCII slugs
(`[a-z0-9][a-z0-9_-]*`) and unique within their kind. Polygons are GeoJSON-style rings of
`[lon, lat]` pairs (WGS84), the first point repeated at the end.

    version: 1
    city: {code: beijing, name: 北京市}
    districts:
      - code: dongcheng
        name: 东城区
        streets:
          - code: dc-jingshan
            name: 景山街道
            kind: street                  # street | township | area
            units:                        # 六室一队三中心
              - {code: dc-jingshan-enforcement, name: 综合执法队, kind: enforcement_team}
            communities:
              - {code: dc-jingshan-01, name: 景山东街社区, households: 1800,
                 polygon: [[116.39, 39.92], [116.40, 39.92], [116.40, 39.93], [116.39, 39.92]]}
        backstop: {code: dongcheng-backstop, name: 东城区接诉即办兜底专班}
    departments:
      - code: cgw
        name: 城市管理委员会
        kind: city_management             # what routing rules name (lead/co)
        level: district                   # city | district
        agencies:
          - {code: dc-cgw, name: 东城区城管委, district: dongcheng, serves: [dc-jingshan]}
    categories:
      - code: garbage_piling
        name: 垃圾堆放
        name_en: Garbage piling
        group: 市容环境
        keywords: [垃圾, 堆放]
        urgency: normal                   # emergency | urgent | normal | complex
        attributes:
          - {code: volume, datatype: singlevaluelist, required: false, description: 体量,
             values: [{key: small, name: 少量}, {key: large, name: 大量}]}
    duty_list:
      - code: city_management
        name: 城市管理
        items:
          - {code: cm-01, name: 街巷环境卫生, categories: [garbage_piling]}
    rules:
      - {category: garbage_piling, street_unit_kind: enforcement_team}
      - {category: back_alley, street_unit_kind: office, street_unit: city-management}
      - {category: illegal_construction, lead: city_management, co: [housing],
         effective_from: "2026-01-01T00:00:00+08:00"}
    policies:
      sla:
        normal: {sign_off: 30m, contact: 24h, report_in: 24h, resolve: 7d}
      scoring: {response: 0.2, resolution: 0.3, satisfaction: 0.3, on_time: 0.1, street_evaluation: 0.1,
                min_sample: 5}
    calendar:                             # local overrides of the official work calendar
      - {date: 2026-07-20, workday: false, name: 暴雨停工}
    clients:
      - {client_id: hotline, kind: hotline, secret: demo-hotline-secret}

Durations are `<n>s`, `<n>m`, `<n>h`, `<n>d` (calendar) or `<n>wd` (working days).

A rule names one target: a street unit (`street_unit_kind`, optionally `street_unit`, the unit code
suffix: `city-management` means the unit `<street>-city-management`), the committee of the
complaint's community (`community_committee: true`, for a matter on `community_duty_list`, the
社区工作准入清单), or a `lead` department kind with any `co` kinds. Communities may carry
`residents`, `area_km2`, `social_workers` and `sub_areas` (居民小组 and 楼门院: `code`, `name`,
`kind`, optional `polygon` inside the community); `policies.structure` holds the size standards
(`StructurePolicy`). Rules and policies may carry `effective_from` / `effective_to` (aware datetimes; the
range is half-open, a missing end is unbounded): a snapshot holds every rule with its range, so a
complaint is routed by the rules in force when it arrived (`Rule.in_force`). `policies` are the
policies in force when the snapshot was built; `policy_history` holds every version with its range
(`CityData.policies_at`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from shared.work_calendar import WorkCalendar

Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
Duration = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]*(s|m|h|d|wd)$")]
Urgency = Literal["emergency", "urgent", "normal", "complex"]
URGENCIES: tuple[Urgency, ...] = get_args(Urgency)
"""Every urgency, most pressing first: each has an SLA policy."""
Point = tuple[float, float]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


SubAreaKind = Literal["residents_group", "building_unit"]
"""居民小组/村民小组 (a residents' group), 楼门院 (a building or courtyard unit)."""


class SubArea(_Model):
    """Self-governance below the community: a residents' group or a building/courtyard unit."""

    code: Code
    name: str
    kind: SubAreaKind = "residents_group"
    polygon: list[Point] | None = Field(default=None, min_length=4)
    """Optional; when given it lies inside the community's polygon."""


class Community(_Model):
    code: Code
    name: str
    households: int = Field(default=0, ge=0)
    residents: int | None = Field(default=None, ge=0)
    """Registered residents; None: not recorded (judged by households only)."""
    area_km2: float | None = Field(default=None, gt=0)
    """The surveyed area; None: estimated from the polygon."""
    social_workers: int | None = Field(default=None, ge=0)
    """社区工作者 on the committee's staff; None: not recorded."""
    polygon: list[Point] = Field(min_length=4)
    sub_areas: list[SubArea] = Field(default_factory=list)

    @property
    def committee_code(self) -> str:
        """The community committee's unit (社区居委会): what rules and whistles summon."""
        return committee_code(self.code)

    @property
    def committee_name(self) -> str:
        return f"{self.name}居委会"


def committee_code(community_code: str) -> str:
    return f"{community_code}-committee"


class StreetUnit(_Model):
    code: Code
    name: str
    kind: Literal["office", "enforcement_team", "centre"]


class Street(_Model):
    code: Code
    name: str
    kind: Literal["street", "township", "area"] = "street"
    polygon: list[Point] | None = Field(default=None, min_length=4)
    """The street's boundary when it is stored; None: the union of its communities' polygons."""
    units: list[StreetUnit] = Field(default_factory=list)
    communities: list[Community] = Field(default_factory=list)


class Backstop(_Model):
    code: Code
    name: str


class District(_Model):
    code: Code
    name: str
    streets: list[Street] = Field(default_factory=list)
    backstop: Backstop


class Agency(_Model):
    code: Code
    name: str
    district: Code
    serves: list[Code] = Field(default_factory=list)


class Department(_Model):
    code: Code
    name: str
    kind: Code
    level: Literal["city", "district"] = "district"
    parent: Code | None = None
    agencies: list[Agency] = Field(default_factory=list)


class AttributeValue(_Model):
    key: str
    name: str


class Attribute(_Model):
    code: Code
    datatype: Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
    required: bool = False
    description: str = ""
    order: int = 0
    values: list[AttributeValue] = Field(default_factory=list)


class Category(_Model):
    code: Code
    name: str
    name_en: str = ""
    group: str = ""
    description: str = ""
    keywords: list[str] = Field(default_factory=list)
    urgency: Urgency = "normal"
    attributes: list[Attribute] = Field(default_factory=list)


class DutyItem(_Model):
    code: Code
    name: str
    categories: list[Code] = Field(default_factory=list)


class DutyBlock(_Model):
    code: Code
    name: str
    items: list[DutyItem] = Field(default_factory=list)


UnitKind = Literal["office", "enforcement_team", "centre"]


def _in_range(start: datetime | None, end: datetime | None, at: datetime) -> bool:
    return (start is None or start <= at) and (end is None or at < end)


class Rule(_Model):
    """Category (optionally narrowed to a district or street) → a street unit, the committee of the
    complaint's community (`community_committee`) or departments,
    in force from `effective_from` (inclusive) to `effective_to` (exclusive); None is unbounded."""

    id: int | None = None
    category: Code
    district: Code | None = None
    street: Code | None = None
    street_unit_kind: UnitKind | None = None
    street_unit: Code | None = None
    """The unit code suffix: `city-management` names `<street>-city-management`."""
    community_committee: bool = False
    """The committee (居委会) of the community the complaint is in: only for a matter on the
    community duty list (社区工作准入清单)."""
    lead: Code | None = None
    co: list[Code] = Field(default_factory=list)
    effective_from: AwareDatetime | None = None
    effective_to: AwareDatetime | None = None

    @property
    def to_street_unit(self) -> bool:
        return self.street_unit_kind is not None or self.street_unit is not None

    def in_force(self, at: datetime) -> bool:
        return _in_range(self.effective_from, self.effective_to, at)

    def describe(self) -> str:
        """`rule #12 (noise in xicheng)`: how reasons and errors name a rule."""
        scope = self.street or self.district or "city-wide"
        name = f"rule #{self.id}" if self.id is not None else "rule"
        return f"{name} ({self.category}, {scope})"


class SlaPolicy(_Model):
    sign_off: Duration
    contact: Duration
    report_in: Duration
    resolve: Duration
    warn_at: float = Field(default=0.8, gt=0, lt=1)
    """The share of a clock's duration after which a warning goes out (0.8: at 80 %)."""


class ScoringPolicy(_Model):
    response: float
    resolution: float
    satisfaction: float
    on_time: float
    street_evaluation: float
    min_sample: int = 5
    basically_satisfied: float = Field(default=0.8, ge=0, le=1)
    """How much a 基本满意 counts toward the satisfaction rate (满意 counts 1)."""
    whistle_rate_low: float = Field(default=0.5, ge=0)
    whistle_rate_high: float = Field(default=10.0, gt=0)
    """A street's healthy band of whistles per 10,000 households per month: below it matters may be
    held back, above it the street may be passing its own work on."""


EscalationOn = Literal["warning", "breached"]
EscalationAction = Literal["remind", "district", "backstop_joins"]


class EscalationStep(_Model):
    """`when` a clock of `stage` (or any stage) warns or breaches, after `after` (default at once), do
    `action`: remind the unit, escalate to the district command centre, or have the backstop join."""

    when: EscalationOn
    stage: Literal["sign_off", "contact", "report_in", "resolve", "any"] = "any"
    after: Duration | None = None
    action: EscalationAction


DEFAULT_ESCALATION: tuple[EscalationStep, ...] = (
    EscalationStep(when="warning", action="remind"),
    EscalationStep(when="breached", stage="sign_off", action="remind"),
    EscalationStep(when="breached", stage="sign_off", after="30m", action="district"),
    EscalationStep(when="breached", stage="contact", action="remind"),
    EscalationStep(when="breached", stage="report_in", action="district"),
    EscalationStep(when="breached", stage="resolve", action="backstop_joins"),
)


class DispatchPolicy(_Model):
    bounce_limit: int = Field(default=2, ge=1)
    """Returns per complaint after which it goes to the district backstop."""
    escalation: list[EscalationStep] = Field(default_factory=lambda: list(DEFAULT_ESCALATION))
    community_whistle_desk: list[Code] = Field(default_factory=lambda: ["grid-centre", "citizen-centre"])
    """The street units (code suffixes, first found wins) that take a community's whistle for a
    matter off the street duty list; a street with none of them: its first office, else first unit."""


class Band(_Model):
    """A range a measure should stay in: `min` and/or `max` (None: open on that side)."""

    min: float | None = None
    max: float | None = None


class StructurePolicy(_Model):
    """The size standards the reform set for streets and communities (Beijing's by default).

    A street in a core district (`core_districts`) has `core_street_residents` and at least
    `core_street_area_km2`; elsewhere `street_residents`. A community has about
    `community_target_households` households / `community_target_residents` residents, at most
    `community_households` / `community_residents`; over `super_community_households` it is a
    super-community to split. Its social workers number at least `social_workers_min` and one per
    `households_per_worker` households (the low end: the most households one worker may serve).
    """

    core_districts: list[Code] = Field(default_factory=lambda: ["dongcheng", "xicheng"])
    core_street_residents: Band = Band(min=50_000, max=100_000)
    core_street_area_km2: Band = Band(min=2)
    street_residents: Band = Band(max=150_000)
    community_target_households: int = Field(default=2_000, gt=0)
    community_target_residents: int = Field(default=6_000, gt=0)
    community_households: Band = Band(max=3_000)
    community_residents: Band = Band(max=9_000)
    super_community_households: int = Field(default=5_000, gt=0)
    social_workers_min: int = Field(default=9, ge=0)
    households_per_worker: Band = Band(min=110, max=150)


class Policies(_Model):
    sla: dict[Urgency, SlaPolicy]
    scoring: ScoringPolicy
    dispatch: DispatchPolicy = Field(default_factory=DispatchPolicy)
    structure: StructurePolicy = Field(default_factory=StructurePolicy)


class PolicyVersion(_Model):
    """One version of a policy with its range: an SLA policy (`urgency` set), the scoring policy,
    the dispatch policy (bounce limit, escalation ladder) or the structure's size standards."""

    id: int | None = None
    urgency: Urgency | None = None
    sla: SlaPolicy | None = None
    scoring: ScoringPolicy | None = None
    dispatch: DispatchPolicy | None = None
    structure: StructurePolicy | None = None
    effective_from: AwareDatetime | None = None
    effective_to: AwareDatetime | None = None

    def in_force(self, at: datetime) -> bool:
        return _in_range(self.effective_from, self.effective_to, at)


class CalendarOverride(_Model):
    """A local exception to the official work calendar (a closure, a newly announced make-up day)."""

    date: date
    workday: bool
    name: str = ""


class Client(_Model):
    client_id: str
    kind: Literal["hotline", "department", "street", "district", "community", "admin", "viewer"]
    secret: str
    department: Code | None = None
    street: Code | None = None
    district: Code | None = None
    community: Code | None = None


class CityInfo(_Model):
    code: Code
    name: str


class CityData(_Model):
    version: Literal[1] = 1
    city: CityInfo
    districts: list[District]
    departments: list[Department] = Field(default_factory=list)
    categories: list[Category] = Field(default_factory=list)
    duty_list: list[DutyBlock] = Field(default_factory=list)
    community_duty_list: list[DutyBlock] = Field(default_factory=list)
    """社区工作准入清单: the only matters that may be handed to a community committee."""
    rules: list[Rule] = Field(default_factory=list)
    policies: Policies
    policy_history: list[PolicyVersion] = Field(default_factory=list)
    calendar: list[CalendarOverride] = Field(default_factory=list)
    clients: list[Client] = Field(default_factory=list)

    def policies_at(self, at: datetime | None = None) -> Policies:
        """The policies in force at `at` (default now); `policies` when there is no history."""
        if not self.policy_history:
            return self.policies
        at = at or datetime.now(UTC)
        sla = dict(self.policies.sla)
        scoring = self.policies.scoring
        dispatch = self.policies.dispatch
        structure = self.policies.structure
        for version in self.policy_history:
            if version.in_force(at):
                if version.sla is not None and version.urgency is not None:
                    sla[version.urgency] = version.sla
                elif version.scoring is not None:
                    scoring = version.scoring
                elif version.dispatch is not None:
                    dispatch = version.dispatch
                elif version.structure is not None:
                    structure = version.structure
        return Policies(sla=sla, scoring=scoring, dispatch=dispatch, structure=structure)

    def work_calendar(self) -> WorkCalendar:
        """The official work calendar with this city's local overrides."""
        return WorkCalendar({o.date: o.workday for o in self.calendar})


class CitySnapshot(_Model):
    """The routing model at one version, as the registry serves it (no client secrets)."""

    version: int
    city: CityData


CITY_FILE_SUFFIXES = (".yaml", ".yml", ".json")


def load_city(path: Path) -> CityData:
    """Read and validate a city: one file (YAML or JSON), or a folder of them.

    Each file of a folder (`*.yaml`, `*.yml`, `*.json`; other files are ignored) holds some of the
    city document's top-level keys (`districts:`, `rules:` …); a key may appear in one file only.
    A document may also give the streets' communities apart from the districts, as `communities:`
    mapping a street code to that street's communities, so the polygons can live in a file of
    their own. Raises ValueError for a document that cannot be put together or does not validate.
    """
    document = _read_folder(path) if path.is_dir() else _read_file(path)
    if isinstance(document, dict):
        document = _place_communities(document)
    return CityData.model_validate(document)


def _read_file(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _read_folder(folder: Path) -> dict[str, Any]:
    """The folder's files merged into one document; each key from the one file that gives it."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in CITY_FILE_SUFFIXES)
    if not files:
        raise ValueError(f"{folder}: no city files ({', '.join(CITY_FILE_SUFFIXES)}) in the folder")
    document: dict[str, Any] = {}
    given_in: dict[str, Path] = {}
    for file in files:
        part = _read_file(file)
        if not isinstance(part, dict):
            raise ValueError(f"{file}: a city file holds top-level keys of the city (`districts:` …)")
        for key, value in part.items():
            if key in given_in:
                raise ValueError(
                    f"{folder}: {key!r} is given in both {given_in[key].name} and {file.name};"
                    " a key may appear in one file only"
                )
            given_in[key] = file
            document[key] = value
    return document


def _place_communities(document: dict[str, Any]) -> dict[str, Any]:
    """`communities:` (street code → its communities) moved into the streets it names."""
    if "communities" not in document:
        return document
    document = dict(document)
    by_street = document.pop("communities")
    if not isinstance(by_street, dict):
        raise ValueError("`communities` maps a street code to that street's communities")
    left = dict(by_street)
    for street in _street_documents(document):
        code = street.get("code")
        if code not in left:
            continue
        if "communities" in street:
            raise ValueError(
                f"the communities of street {code!r} are given twice: in the street and in `communities`"
            )
        street["communities"] = left.pop(code)
    if left:
        raise ValueError(f"`communities` names streets the city does not have: {', '.join(map(str, left))}")
    return document


def _street_documents(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The streets of the document's districts, as far as they have the shape (the model checks the rest)."""
    districts = document.get("districts")
    for district in districts if isinstance(districts, list) else []:
        streets = district.get("streets") if isinstance(district, dict) else None
        for street in streets if isinstance(streets, list) else []:
            if isinstance(street, dict):
                yield street
