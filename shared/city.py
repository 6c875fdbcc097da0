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
      - {category: illegal_construction, lead: city_management, co: [housing]}
    policies:
      sla:
        normal: {sign_off: 30m, contact: 24h, report_in: 24h, resolve: 7d}
      scoring: {response: 0.2, resolution: 0.3, satisfaction: 0.3, on_time: 0.1, street_evaluation: 0.1,
                min_sample: 5}
    clients:
      - {client_id: hotline, kind: hotline, secret: demo-hotline-secret}

Durations are `<n>m`, `<n>h`, `<n>d` (calendar) or `<n>wd` (working days).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
Duration = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]*(m|h|d|wd)$")]
Urgency = Literal["emergency", "urgent", "normal", "complex"]
Point = tuple[float, float]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Community(_Model):
    code: Code
    name: str
    households: int = Field(default=0, ge=0)
    polygon: list[Point] = Field(min_length=4)


class StreetUnit(_Model):
    code: Code
    name: str
    kind: Literal["office", "enforcement_team", "centre"]


class Street(_Model):
    code: Code
    name: str
    kind: Literal["street", "township", "area"] = "street"
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


class Rule(_Model):
    """Category (optionally narrowed to a district or street) → a street unit or departments."""

    category: Code
    district: Code | None = None
    street: Code | None = None
    street_unit_kind: Literal["office", "enforcement_team", "centre"] | None = None
    lead: Code | None = None
    co: list[Code] = Field(default_factory=list)


class SlaPolicy(_Model):
    sign_off: Duration
    contact: Duration
    report_in: Duration
    resolve: Duration


class ScoringPolicy(_Model):
    response: float
    resolution: float
    satisfaction: float
    on_time: float
    street_evaluation: float
    min_sample: int = 5


class Policies(_Model):
    sla: dict[Urgency, SlaPolicy]
    scoring: ScoringPolicy


class Client(_Model):
    client_id: str
    kind: Literal["hotline", "department", "street", "admin", "viewer"]
    secret: str
    department: Code | None = None
    street: Code | None = None


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
    rules: list[Rule] = Field(default_factory=list)
    policies: Policies
    clients: list[Client] = Field(default_factory=list)


class CitySnapshot(_Model):
    """The routing model at one version, as the registry serves it (no client secrets)."""

    version: int
    city: CityData


def load_city(path: Path) -> CityData:
    """Read and validate a city file (YAML or JSON)."""
    with path.open(encoding="utf-8") as fh:
        return CityData.model_validate(yaml.safe_load(fh))
