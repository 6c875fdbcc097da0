"""The one index over a city: lookup tables built once per snapshot version, shared by every service.

Routing, the registry's checks and directory, intake's city view and every access check read the
city through it, so a fact such as "which district is this street in" is derived in one place.
Built from any `CityData`, valid or not (the registry checks a city before it stores it): where a
code repeats, the first entry wins. Immutable once built; `index_of(snapshot)` keeps the index of
the newest snapshot it was asked for.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TypeVar

from shared.access import Owner
from shared.city import Category, CityData, CitySnapshot, Community, Department, Rule, Street

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class CityIndex:
    city: CityData
    version: int
    street_district: Mapping[str, str]
    district_streets: Mapping[str, tuple[str, ...]]
    streets: Mapping[str, Street]
    street_units: Mapping[tuple[str, str], str]
    """(street code, unit kind) → the street's first unit of that kind."""
    unit_kinds: Mapping[str, str]
    """Street unit code → its kind."""
    owners: Mapping[str, Owner]
    """Street units and agencies → the street or department they belong to."""
    unit_names: Mapping[str, str]
    """Every unit a complaint can be assigned to (street units, agencies, backstops) and every
    department, by code."""
    departments: Mapping[str, Department]
    department_kinds: frozenset[str]
    agencies: Mapping[tuple[str, str], tuple[tuple[str, str], ...]]
    """(department kind, street code) → the (agency, department) pairs serving that street."""
    coverage: Mapping[str, frozenset[str]]
    """Department kind → the streets some agency of that kind serves."""
    categories: Mapping[str, Category]
    duty_categories: frozenset[str]
    community_duty_categories: frozenset[str]
    """The categories on the community duty list (社区工作准入清单)."""
    communities: Mapping[str, Community]
    community_street: Mapping[str, str]
    """Community code → its street."""
    committees: Mapping[str, str]
    """Community code → its committee's unit code."""
    sub_areas: Mapping[str, str]
    """Sub-area code (居民小组, 楼门院) → its community."""
    backstops: Mapping[str, str]
    """District code → its backstop unit."""
    rules: Mapping[str, tuple[Rule, ...]]
    """Category → its rules, most specific first."""
    dated_rules: bool
    """Whether any rule has an effective range (if not, no clock needs reading to route)."""

    @classmethod
    def build(cls, city: CityData, version: int = 0) -> CityIndex:
        street_district: dict[str, str] = {}
        district_streets: dict[str, list[str]] = {}
        streets: dict[str, Street] = {}
        street_units: dict[tuple[str, str], str] = {}
        unit_kinds: dict[str, str] = {}
        owners: dict[str, Owner] = {}
        names: dict[str, str] = {}
        backstops: dict[str, str] = {}
        communities: dict[str, Community] = {}
        community_street: dict[str, str] = {}
        committees: dict[str, str] = {}
        sub_areas: dict[str, str] = {}
        for district in city.districts:
            backstops.setdefault(district.code, district.backstop.code)
            names.setdefault(district.backstop.code, district.backstop.name)
            district_streets.setdefault(district.code, [])
            for street in district.streets:
                district_streets[district.code].append(street.code)
                street_district.setdefault(street.code, district.code)
                streets.setdefault(street.code, street)
                for unit in street.units:
                    street_units.setdefault((street.code, unit.kind), unit.code)
                    unit_kinds.setdefault(unit.code, unit.kind)
                    owners.setdefault(unit.code, Owner(street_code=street.code))
                    names.setdefault(unit.code, unit.name)
                for community in street.communities:
                    if community.code in communities:
                        continue
                    communities[community.code] = community
                    community_street[community.code] = street.code
                    committees[community.code] = community.committee_code
                    owners.setdefault(community.committee_code, Owner(community_code=community.code))
                    names.setdefault(community.committee_code, community.committee_name)
                    for sub_area in community.sub_areas:
                        sub_areas.setdefault(sub_area.code, community.code)
        departments: dict[str, Department] = {}
        agencies: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
        coverage: dict[str, set[str]] = defaultdict(set)
        for department in city.departments:
            departments.setdefault(department.code, department)
            names.setdefault(department.code, department.name)
            for agency in department.agencies:
                owners.setdefault(agency.code, Owner(department_code=department.code))
                names.setdefault(agency.code, agency.name)
                coverage[department.kind].update(agency.serves)
                for street_code in agency.serves:
                    agencies[(department.kind, street_code)].append((agency.code, department.code))
        by_category: dict[str, list[Rule]] = defaultdict(list)
        for rule in city.rules:
            by_category[rule.category].append(rule)
        categories: dict[str, Category] = {}
        for category in city.categories:
            categories.setdefault(category.code, category)
        return cls(
            city=city,
            version=version,
            street_district=_frozen(street_district),
            district_streets=_frozen({d: tuple(s) for d, s in district_streets.items()}),
            streets=_frozen(streets),
            street_units=_frozen(street_units),
            unit_kinds=_frozen(unit_kinds),
            owners=_frozen(owners),
            unit_names=_frozen(names),
            departments=_frozen(departments),
            department_kinds=frozenset(d.kind for d in city.departments),
            agencies=_frozen({k: tuple(v) for k, v in agencies.items()}),
            coverage=_frozen({k: frozenset(v) for k, v in coverage.items()}),
            categories=_frozen(categories),
            duty_categories=frozenset(c for b in city.duty_list for i in b.items for c in i.categories),
            community_duty_categories=frozenset(
                c for b in city.community_duty_list for i in b.items for c in i.categories
            ),
            communities=_frozen(communities),
            community_street=_frozen(community_street),
            committees=_frozen(committees),
            sub_areas=_frozen(sub_areas),
            backstops=_frozen(backstops),
            rules=_frozen({c: tuple(sorted(rs, key=_specificity)) for c, rs in by_category.items()}),
            dated_rules=any(r.effective_from or r.effective_to for r in city.rules),
        )

    def unit_name(self, code: str | None) -> str | None:
        return None if code is None else self.unit_names.get(code, code)

    def scope_streets(self, rule: Rule) -> list[str]:
        """The streets a rule applies to (known streets only)."""
        if rule.street is not None:
            return [rule.street] if rule.street in self.street_district else []
        if rule.district is not None:
            return list(self.district_streets.get(rule.district, ()))
        return list(self.street_district)

    def rule_for(self, category: str, street_code: str, at: datetime | None = None) -> Rule | None:
        """The most specific rule in force at `at` (default now) for the category at the street."""
        for rule in self.candidates(category, street_code, at):
            return rule
        return None

    def candidates(self, category: str, street_code: str, at: datetime | None = None) -> Iterator[Rule]:
        """Every rule in force at `at` whose scope covers the street, most specific first."""
        district = self.street_district[street_code]
        if self.dated_rules and at is None:
            at = datetime.now(UTC)
        for rule in self.rules.get(category, ()):
            if rule.street not in (None, street_code) or rule.district not in (None, district):
                continue
            if at is not None and not rule.in_force(at):
                continue
            yield rule

    def street_unit(self, rule: Rule, street_code: str) -> str | None:
        """The unit of the street a street-unit rule names: by code suffix, else by kind."""
        if rule.street_unit is not None:
            code = f"{street_code}-{rule.street_unit}"
            if code in self.unit_kinds:
                return code
        if rule.street_unit_kind is not None:
            return self.street_units.get((street_code, rule.street_unit_kind))
        return None

    def serving_agency(self, kind: str, street_code: str, exclude: frozenset[str]) -> tuple[str, str] | None:
        for agency_code, department_code in self.agencies.get((kind, street_code), ()):
            if agency_code not in exclude:
                return agency_code, department_code
        return None


def _specificity(rule: Rule) -> int:
    return 0 if rule.street else 1 if rule.district else 2


def _frozen(mapping: dict[K, V]) -> Mapping[K, V]:
    return MappingProxyType(mapping)


class IndexCache:
    """The index of the newest snapshot asked for (built once per version)."""

    def __init__(self) -> None:
        self._index: CityIndex | None = None

    def of(self, snapshot: CitySnapshot) -> CityIndex:
        index = self._index
        if index is None or index.version != snapshot.version or index.city is not snapshot.city:
            index = self._index = CityIndex.build(snapshot.city, snapshot.version)
        return index
