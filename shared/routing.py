"""Who must answer a complaint: the pure routing over a city snapshot.

Rules, most specific first (street, then district, then city-wide), among those in force at the
moment routed for (`at`, default now; see `Rule.in_force`):
- a category on the street duty list may go to the street's own unit the rule names (`street_unit`,
  the unit code suffix) or else its first unit of the rule's kind;
- a matter not on the duty list may NOT be pushed down to the street: a rule that would do so is
  refused (and the refusal reported, for the audit) and the district backstop takes it;
- otherwise the lead department kind and any co kinds, each through the agency serving the street;
- no rule, or no serving agency for the lead → the district backstop (区级兜底).
Units named in `exclude` (those that returned the order) are passed over.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from shared.city import CityData, Rule

STREET, LEAD, CO, BACKSTOP = "street", "lead", "co", "backstop"


@dataclass(frozen=True)
class Target:
    unit_code: str
    department_code: str | None
    role: str


@dataclass(frozen=True)
class RouteDecision:
    targets: tuple[Target, ...]
    reasons: tuple[str, ...]
    matched_rule: Rule | None = None
    refused_pushdown: bool = False

    @property
    def lead(self) -> Target:
        return self.targets[0]


class UnknownCode(LookupError):
    """A category or street the city does not have."""


@dataclass
class CityIndex:
    """Lookup tables built once per snapshot, so routing a complaint is a few dict reads."""

    city: CityData
    version: int = 0
    street_district: dict[str, str] = field(default_factory=dict)
    street_units: dict[tuple[str, str], str] = field(default_factory=dict)
    unit_codes: frozenset[str] = frozenset()
    agencies: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)
    rules: dict[str, list[Rule]] = field(default_factory=dict)
    duty_categories: frozenset[str] = frozenset()
    categories: dict[str, str] = field(default_factory=dict)
    backstops: dict[str, str] = field(default_factory=dict)
    dated_rules: bool = False
    """Whether any rule has an effective range (if not, no clock needs reading to route)."""

    @classmethod
    def build(cls, city: CityData, version: int = 0) -> CityIndex:
        index = cls(city=city, version=version)
        kind_of = {d.code: d.kind for d in city.departments}
        agencies: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
        unit_codes: set[str] = set()
        for district in city.districts:
            index.backstops[district.code] = district.backstop.code
            for street in district.streets:
                index.street_district[street.code] = district.code
                for unit in street.units:
                    index.street_units.setdefault((street.code, unit.kind), unit.code)
                    unit_codes.add(unit.code)
        index.unit_codes = frozenset(unit_codes)
        for department in city.departments:
            for agency in department.agencies:
                for street_code in agency.serves:
                    agencies[(kind_of[department.code], street_code)].append((agency.code, department.code))
        index.agencies = dict(agencies)
        by_category: dict[str, list[Rule]] = defaultdict(list)
        for rule in city.rules:
            by_category[rule.category].append(rule)
        index.rules = {c: sorted(rs, key=_specificity) for c, rs in by_category.items()}
        index.dated_rules = any(r.effective_from or r.effective_to for r in city.rules)
        index.duty_categories = frozenset(c for b in city.duty_list for i in b.items for c in i.categories)
        index.categories = {c.code: c.urgency for c in city.categories}
        return index

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
            if code in self.unit_codes:
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


def check_known(index: CityIndex, *, category: str, street_code: str) -> None:
    if category not in index.categories:
        raise UnknownCode(f"unknown category {category!r}")
    if street_code not in index.street_district:
        raise UnknownCode(f"unknown street {street_code!r}")


def route(
    index: CityIndex,
    *,
    category: str,
    street_code: str,
    exclude: frozenset[str] = frozenset(),
    at: datetime | None = None,
) -> RouteDecision:
    """Who answers a complaint of `category` at `street_code`, by the rules in force at `at`."""
    check_known(index, category=category, street_code=street_code)
    backstop = Target(index.backstops[index.street_district[street_code]], None, BACKSTOP)
    rule = index.rule_for(category, street_code, at)
    if rule is None:
        return RouteDecision((backstop,), (f"no rule for {category}: district backstop",))

    if rule.to_street_unit:
        wanted = rule.street_unit or rule.street_unit_kind
        if category not in index.duty_categories:
            return RouteDecision(
                (backstop,),
                (
                    f"{category} is not on the street duty list: may not be pushed down to the street; "
                    "district backstop",
                ),
                rule,
                refused_pushdown=True,
            )
        unit = index.street_unit(rule, street_code)
        if unit is None or unit in exclude:
            why = "returned by" if unit else "no unit"
            return RouteDecision((backstop,), (f"{why} {wanted} at {street_code}: backstop",), rule)
        return RouteDecision(
            (Target(unit, None, STREET),),
            (f"{category} is on the street duty list: {rule.describe()} → {wanted}: {unit}",),
            rule,
        )

    assert rule.lead is not None
    reasons: list[str] = []
    lead = index.serving_agency(rule.lead, street_code, exclude)
    if lead is None:
        return RouteDecision((backstop,), (f"no agency of {rule.lead} serves {street_code}: backstop",), rule)
    targets = [Target(lead[0], lead[1], LEAD)]
    reasons.append(f"{rule.describe()} → lead {rule.lead}: {lead[0]}")
    for kind in rule.co:
        co = index.serving_agency(kind, street_code, exclude)
        if co is None:
            reasons.append(f"no agency of co kind {kind} serves {street_code}")
        elif co[0] not in {t.unit_code for t in targets}:
            targets.append(Target(co[0], co[1], CO))
            reasons.append(f"co {kind}: {co[0]}")
    return RouteDecision(tuple(targets), tuple(reasons), rule)
