"""What every check shares: a `Problem`, and the `ValidationIndex` — the shared city index (the
same one routing uses) plus the community polygons, valid ones in a spatial index."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import shapely
from shapely import Polygon, STRtree

from shared.city import CityData, Department, Point, Rule, Street
from shared.city_index import CityIndex


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a city: where (`path`) and what (`message`)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True, slots=True)
class CommunityShape:
    path: str
    code: str
    polygon: Polygon


@dataclass
class CommunityShapes:
    """Community polygons in a spatial index: what a new polygon is checked against."""

    communities: list[CommunityShape] = field(default_factory=list)

    @cached_property
    def tree(self) -> STRtree:
        return STRtree([c.polygon for c in self.communities])


@dataclass
class ValidationIndex:
    """The city index, with the community polygons the geography checks need."""

    city: CityIndex
    communities: list[CommunityShape] = field(default_factory=list)
    """Communities with a valid polygon (invalid ones are in `polygon_problems`, not indexed)."""
    polygon_problems: list[Problem] = field(default_factory=list)

    @classmethod
    def build(cls, city: CityData, *, geometry: bool = True) -> ValidationIndex:
        index = cls(CityIndex.build(city))
        if not geometry:
            return index
        for d_i, district in enumerate(city.districts):
            for s_i, street in enumerate(district.streets):
                for c_i, community in enumerate(street.communities):
                    path = f"districts[{d_i}].streets[{s_i}].communities[{c_i}].polygon"
                    problems = polygon_problems(community.polygon, path)
                    if problems:
                        index.polygon_problems += problems
                    else:
                        index.communities.append(
                            CommunityShape(path, community.code, Polygon(community.polygon))
                        )
        return index

    @cached_property
    def shapes(self) -> CommunityShapes:
        return CommunityShapes(self.communities)

    # What the checks read, by the names they use.
    @property
    def district_streets(self) -> Mapping[str, Sequence[str]]:
        return self.city.district_streets

    @property
    def street_district(self) -> Mapping[str, str]:
        return self.city.street_district

    @property
    def streets(self) -> Mapping[str, Street]:
        return self.city.streets

    @cached_property
    def street_unit_kinds(self) -> dict[str, set[str]]:
        kinds: dict[str, set[str]] = {code: set() for code in self.city.streets}
        for street_code, kind in self.city.street_units:
            kinds.setdefault(street_code, set()).add(kind)
        return kinds

    @property
    def unit_kinds(self) -> Mapping[str, str]:
        return self.city.unit_kinds

    @property
    def departments(self) -> Mapping[str, Department]:
        return self.city.departments

    @property
    def department_kinds(self) -> frozenset[str]:
        return self.city.department_kinds

    @property
    def coverage(self) -> Mapping[str, frozenset[str]]:
        return self.city.coverage

    @property
    def categories(self) -> Mapping[str, object]:
        return self.city.categories

    @property
    def duty_categories(self) -> frozenset[str]:
        return self.city.duty_categories

    def scope_streets(self, rule: Rule) -> list[str]:
        return self.city.scope_streets(rule)


def duplicates(kind: str, entries: Iterable[tuple[str, str]]) -> list[Problem]:
    """`entries` are (path, code); report each repeat with where the code was first used."""
    first: dict[str, str] = {}
    problems: list[Problem] = []
    for path, code in entries:
        if code in first:
            problems.append(Problem(path, f"duplicate {kind} code {code!r} (first used at {first[code]})"))
        else:
            first[code] = path
    return problems


def polygon_problems(ring: Sequence[Point], path: str) -> list[Problem]:
    problems: list[Problem] = []
    if any(not (math.isfinite(lon) and math.isfinite(lat)) for lon, lat in ring):
        return [Problem(path, "polygon has a coordinate that is not a finite number")]
    bad = [(lon, lat) for lon, lat in ring if not (-180 <= lon <= 180 and -90 <= lat <= 90)]
    if bad:
        problems.append(Problem(path, f"polygon point {list(bad[0])} is outside WGS84 lon/lat range"))
    if tuple(ring[0]) != tuple(ring[-1]):
        problems.append(
            Problem(path, f"polygon ring is not closed: first point {list(ring[0])} != last {list(ring[-1])}")
        )
    if len({tuple(p) for p in ring}) < 3:
        problems.append(Problem(path, "polygon needs at least 3 distinct points"))
        return problems
    polygon = Polygon(ring)
    if not polygon.is_valid:
        problems.append(Problem(path, f"polygon is not valid: {shapely.is_valid_reason(polygon)}"))
    elif polygon.area <= 0:
        problems.append(Problem(path, "polygon has zero area"))
    return problems
