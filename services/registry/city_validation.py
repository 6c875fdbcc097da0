"""Checks a `CityData` for mistakes the pydantic models cannot see on their own.

`validate_city(city)` returns every problem at once as `Problem(path, message)` entries (an empty
list when the city is valid). Paths follow the file's structure with list indexes, e.g.
``districts[0].streets[2].communities[3].polygon`` or ``rules[12].lead``; messages name the codes.

What is checked:

- codes unique within their kind (districts, streets, street units, communities, backstops,
  departments, agencies, categories, duty blocks and items, client ids; attribute codes within a
  category and value keys within an attribute);
- community polygons: closed ring, finite WGS84 coordinates, valid (not self-intersecting, non-zero
  area), and no two communities overlapping (touching along edges is fine);
- references: agency district and served streets, department parent (and no parent cycles), duty
  item categories, client department/street, rule category/district/street and the department kinds
  a rule names as lead or co;
- rules: exactly one target (a street unit, by kind and/or code suffix, or a lead department kind);
  only categories on the street duty list (街道职责清单) may go to a street unit, and every street in
  the rule's scope must have such a unit; a department rule needs, for every street in its scope, an
  agency of the lead kind and of each co kind serving that street; an effective range that ends
  after it starts; no two rules for the same category and scope in force at the same time;
- policies: an SLA for each urgency, scoring weights summing to 1; policy versions of the same
  policy never in force at the same time;
- calendar: at most one local override per date.

The smaller functions (`validate_polygon`, `validate_community_polygon`, `validate_rule`,
`validate_rules`, `validate_policies`) check one piece against a `ValidationIndex` of an existing city, so an
API can validate a single change before applying it. `ValidationIndex.build(city, geometry=False)`
skips the polygons, for checks that only need the city's structure.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import shapely
from shapely import Polygon, STRtree

from shared.city import (
    URGENCIES,
    CalendarOverride,
    Category,
    CityData,
    Client,
    Department,
    Point,
    Policies,
    PolicyVersion,
    Rule,
    ScoringPolicy,
    Street,
)

__all__ = [
    "SLA_URGENCIES",
    "WEIGHT_TOLERANCE",
    "CommunityShape",
    "Problem",
    "ValidationIndex",
    "check_calendar",
    "check_categories",
    "check_clients",
    "check_departments",
    "check_duplicate_codes",
    "check_duty_list",
    "check_geography",
    "check_policy_history",
    "find_overlaps",
    "ranges_overlap",
    "validate_category",
    "validate_city",
    "validate_community_polygon",
    "validate_policies",
    "validate_polygon",
    "validate_rule",
    "validate_rules",
    "validate_scoring",
]

SLA_URGENCIES = URGENCIES
WEIGHT_TOLERANCE = 1e-6
_LIST_DATATYPES = {"singlevaluelist", "multivaluelist"}
_SCORING_WEIGHTS = ("response", "resolution", "satisfaction", "on_time", "street_evaluation")


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
class ValidationIndex:
    """Lookups over a city that the checks (and single-change validation) need."""

    district_streets: dict[str, list[str]] = field(default_factory=dict)
    street_district: dict[str, str] = field(default_factory=dict)
    streets: dict[str, Street] = field(default_factory=dict)
    street_unit_kinds: dict[str, set[str]] = field(default_factory=dict)
    unit_kinds: dict[str, str] = field(default_factory=dict)
    """Street unit code → its kind."""
    departments: dict[str, Department] = field(default_factory=dict)
    department_kinds: set[str] = field(default_factory=set)
    coverage: dict[str, set[str]] = field(default_factory=dict)
    """Department kind → codes of the streets some agency of that kind serves."""
    categories: set[str] = field(default_factory=set)
    duty_categories: set[str] = field(default_factory=set)
    communities: list[CommunityShape] = field(default_factory=list)
    """Communities with a valid polygon (invalid ones are in `polygon_problems`, not indexed)."""
    polygon_problems: list[Problem] = field(default_factory=list)
    _tree: STRtree | None = field(default=None, repr=False)

    @classmethod
    def build(cls, city: CityData, *, geometry: bool = True) -> ValidationIndex:
        index = cls()
        for d_i, district in enumerate(city.districts):
            index.district_streets.setdefault(district.code, [])
            for s_i, street in enumerate(district.streets):
                index.district_streets[district.code].append(street.code)
                index.street_district.setdefault(street.code, district.code)
                index.streets.setdefault(street.code, street)
                index.street_unit_kinds.setdefault(street.code, set()).update(u.kind for u in street.units)
                index.unit_kinds.update((u.code, u.kind) for u in street.units)
                if not geometry:
                    continue
                for c_i, community in enumerate(street.communities):
                    path = f"districts[{d_i}].streets[{s_i}].communities[{c_i}].polygon"
                    problems = _polygon_problems(community.polygon, path)
                    if problems:
                        index.polygon_problems += problems
                    else:
                        index.communities.append(
                            CommunityShape(path, community.code, Polygon(community.polygon))
                        )
        for dept in city.departments:
            index.departments.setdefault(dept.code, dept)
            index.department_kinds.add(dept.kind)
            served = index.coverage.setdefault(dept.kind, set())
            for agency in dept.agencies:
                served.update(agency.serves)
        index.categories = {c.code for c in city.categories}
        index.duty_categories = {
            code for block in city.duty_list for item in block.items for code in item.categories
        }
        return index

    @property
    def tree(self) -> STRtree:
        """Spatial index over `communities` (built on first use)."""
        if self._tree is None:
            self._tree = STRtree([c.polygon for c in self.communities])
        return self._tree

    def scope_streets(self, rule: Rule) -> list[str]:
        """The streets a rule applies to (known streets only)."""
        if rule.street is not None:
            return [rule.street] if rule.street in self.street_district else []
        if rule.district is not None:
            return list(self.district_streets.get(rule.district, []))
        return list(self.street_district)


def validate_city(city: CityData) -> list[Problem]:
    """Every problem in the city, in file order per check; empty when the city is valid."""
    index = ValidationIndex.build(city)
    problems: list[Problem] = []
    problems += check_duplicate_codes(city)
    problems += check_geography(index)
    problems += check_departments(city, index)
    problems += check_categories(city)
    problems += check_duty_list(city, index)
    problems += validate_rules(city.rules, index)
    problems += validate_policies(city.policies)
    problems += check_policy_history(city.policy_history)
    problems += check_calendar(city.calendar)
    problems += check_clients(city.clients, index)
    return problems


# --- codes -------------------------------------------------------------------------------------------


def _duplicates(kind: str, entries: Iterable[tuple[str, str]]) -> list[Problem]:
    """`entries` are (path, code); report each repeat with where the code was first used."""
    first: dict[str, str] = {}
    problems: list[Problem] = []
    for path, code in entries:
        if code in first:
            problems.append(Problem(path, f"duplicate {kind} code {code!r} (first used at {first[code]})"))
        else:
            first[code] = path
    return problems


def check_duplicate_codes(city: CityData) -> list[Problem]:
    Entries = list[tuple[str, str]]
    districts: Entries = []
    backstops: Entries = []
    streets: Entries = []
    units: Entries = []
    communities: Entries = []
    for d_i, district in enumerate(city.districts):
        dp = f"districts[{d_i}]"
        districts.append((f"{dp}.code", district.code))
        backstops.append((f"{dp}.backstop.code", district.backstop.code))
        for s_i, street in enumerate(district.streets):
            sp = f"{dp}.streets[{s_i}]"
            streets.append((f"{sp}.code", street.code))
            units += [(f"{sp}.units[{u_i}].code", u.code) for u_i, u in enumerate(street.units)]
            communities += [
                (f"{sp}.communities[{c_i}].code", c.code) for c_i, c in enumerate(street.communities)
            ]
    departments: Entries = []
    agencies: Entries = []
    for p_i, dept in enumerate(city.departments):
        departments.append((f"departments[{p_i}].code", dept.code))
        agencies += [
            (f"departments[{p_i}].agencies[{a_i}].code", a.code) for a_i, a in enumerate(dept.agencies)
        ]
    blocks: Entries = []
    items: Entries = []
    for b_i, block in enumerate(city.duty_list):
        blocks.append((f"duty_list[{b_i}].code", block.code))
        items += [(f"duty_list[{b_i}].items[{i_i}].code", item.code) for i_i, item in enumerate(block.items)]
    problems = (
        _duplicates("district", districts)
        + _duplicates("backstop", backstops)
        + _duplicates("street", streets)
        + _duplicates("street unit", units)
        + _duplicates("community", communities)
        + _duplicates("department", departments)
        + _duplicates("agency", agencies)
        + _duplicates("category", [(f"categories[{i}].code", c.code) for i, c in enumerate(city.categories)])
        + _duplicates("duty block", blocks)
        + _duplicates("duty item", items)
        + _duplicates(
            "client", [(f"clients[{i}].client_id", c.client_id) for i, c in enumerate(city.clients)]
        )
    )
    return problems


# --- geography ---------------------------------------------------------------------------------------


def _polygon_problems(ring: Sequence[Point], path: str) -> list[Problem]:
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


def validate_polygon(ring: Sequence[Point], path: str = "polygon") -> list[Problem]:
    """A community polygon on its own: closed ring, WGS84 coordinates, valid and not self-intersecting."""
    return _polygon_problems(ring, path)


def find_overlaps(shapes: Sequence[CommunityShape]) -> list[Problem]:
    """Pairs of communities whose interiors intersect (touching along edges or at points is fine).

    Uses an STRtree: the 7,000 communities of a Beijing-size city are checked in well under a second.
    Each overlapping pair is reported once, at the later community's path.
    """
    if len(shapes) < 2:
        return []
    tree = STRtree([s.polygon for s in shapes])
    geoms = tree.geometries
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if left.size == 0:
        return []
    overlapping = shapely.relate_pattern(geoms[left], geoms[right], "T********")
    problems: list[Problem] = []
    for a, b in sorted(
        zip(left[overlapping].tolist(), right[overlapping].tolist(), strict=True), key=lambda p: p[::-1]
    ):
        first, second = shapes[a], shapes[b]
        problems.append(
            Problem(
                second.path, f"community {second.code!r} overlaps community {first.code!r} ({first.path})"
            )
        )
    return problems


def validate_community_polygon(
    ring: Sequence[Point], index: ValidationIndex, path: str = "polygon", code: str | None = None
) -> list[Problem]:
    """A new or changed community polygon against an existing city: valid, and not overlapping any
    other community (the community `code` itself, when it is being replaced, is ignored)."""
    problems = _polygon_problems(ring, path)
    if problems or not index.communities:
        return problems
    polygon = Polygon(ring)
    for i in index.tree.query(polygon, predicate="intersects").tolist():
        other = index.communities[i]
        if other.code != code and polygon.relate_pattern(other.polygon, "T********"):
            problems.append(Problem(path, f"polygon overlaps community {other.code!r} ({other.path})"))
    return problems


def check_geography(index: ValidationIndex) -> list[Problem]:
    """Invalid community polygons (found while indexing) and overlapping communities."""
    return index.polygon_problems + find_overlaps(index.communities)


# --- departments -------------------------------------------------------------------------------------


def check_departments(city: CityData, index: ValidationIndex) -> list[Problem]:
    problems: list[Problem] = []
    for p_i, dept in enumerate(city.departments):
        dp = f"departments[{p_i}]"
        if dept.parent is not None and dept.parent not in index.departments:
            problems.append(
                Problem(f"{dp}.parent", f"department {dept.code!r} has unknown parent {dept.parent!r}")
            )
        for a_i, agency in enumerate(dept.agencies):
            ap = f"{dp}.agencies[{a_i}]"
            if agency.district not in index.district_streets:
                problems.append(
                    Problem(
                        f"{ap}.district", f"agency {agency.code!r} names unknown district {agency.district!r}"
                    )
                )
            for v_i, street in enumerate(agency.serves):
                where = index.street_district.get(street)
                if where is None:
                    problems.append(
                        Problem(
                            f"{ap}.serves[{v_i}]", f"agency {agency.code!r} serves unknown street {street!r}"
                        )
                    )
                elif (
                    dept.level == "district"
                    and agency.district in index.district_streets
                    and where != agency.district
                ):
                    problems.append(
                        Problem(
                            f"{ap}.serves[{v_i}]",
                            f"agency {agency.code!r} of district-level department {dept.code!r} serves "
                            f"street {street!r} of district {where!r}, "
                            f"not its own district {agency.district!r}",
                        )
                    )
    problems += _parent_cycles(city.departments)
    return problems


def _parent_cycles(departments: Sequence[Department]) -> list[Problem]:
    position: dict[str, int] = {}
    for i, dept in enumerate(departments):
        position.setdefault(dept.code, i)
    parent = {d.code: d.parent for d in departments}
    reported: set[frozenset[str]] = set()
    problems: list[Problem] = []
    for dept in departments:
        chain: list[str] = []
        seen: set[str] = set()
        code: str | None = dept.code
        while code is not None and code in parent and code not in seen:
            seen.add(code)
            chain.append(code)
            code = parent[code]
        if code is None or code not in seen:
            continue
        cycle = chain[chain.index(code) :]
        key = frozenset(cycle)
        if key in reported:
            continue
        reported.add(key)
        start = min(cycle, key=lambda c: position[c])
        at = cycle.index(start)
        ordered = cycle[at:] + cycle[:at] + [start]
        problems.append(
            Problem(
                f"departments[{position[start]}].parent",
                "department parents form a cycle: " + " → ".join(ordered),
            )
        )
    return problems


# --- categories and duty list ------------------------------------------------------------------------


def check_categories(city: CityData) -> list[Problem]:
    problems: list[Problem] = []
    for c_i, category in enumerate(city.categories):
        problems += validate_category(category, f"categories[{c_i}]")
    return problems


def validate_category(category: Category, cp: str = "category") -> list[Problem]:
    """One category's Open311 attributes: unique codes, values for (and only for) list types."""
    problems: list[Problem] = []
    problems += _duplicates(
        f"attribute (in category {category.code!r})",
        [(f"{cp}.attributes[{a_i}].code", a.code) for a_i, a in enumerate(category.attributes)],
    )
    for a_i, attr in enumerate(category.attributes):
        ap = f"{cp}.attributes[{a_i}]"
        if attr.datatype in _LIST_DATATYPES and not attr.values:
            problems.append(
                Problem(f"{ap}.values", f"attribute {attr.code!r} is a {attr.datatype} without values")
            )
        if attr.datatype not in _LIST_DATATYPES and attr.values:
            problems.append(
                Problem(
                    f"{ap}.values",
                    f"attribute {attr.code!r} is a {attr.datatype}; only lists take values",
                )
            )
        problems += _duplicates(
            f"value key (in attribute {attr.code!r})",
            [(f"{ap}.values[{v_i}].key", v.key) for v_i, v in enumerate(attr.values)],
        )
    return problems


def check_duty_list(city: CityData, index: ValidationIndex) -> list[Problem]:
    problems: list[Problem] = []
    for b_i, block in enumerate(city.duty_list):
        for i_i, item in enumerate(block.items):
            for c_i, code in enumerate(item.categories):
                if code not in index.categories:
                    problems.append(
                        Problem(
                            f"duty_list[{b_i}].items[{i_i}].categories[{c_i}]",
                            f"duty item {item.code!r} lists unknown category {code!r}",
                        )
                    )
    return problems


# --- rules -------------------------------------------------------------------------------------------


def validate_rule(rule: Rule, index: ValidationIndex, path: str = "rule") -> list[Problem]:
    """One routing rule against a city: references, a single target, the duty list and coverage."""
    problems: list[Problem] = []
    if rule.category not in index.categories:
        problems.append(Problem(f"{path}.category", f"rule names unknown category {rule.category!r}"))
    if rule.district is not None and rule.district not in index.district_streets:
        problems.append(Problem(f"{path}.district", f"rule names unknown district {rule.district!r}"))
    if rule.street is not None:
        where = index.street_district.get(rule.street)
        if where is None:
            problems.append(Problem(f"{path}.street", f"rule names unknown street {rule.street!r}"))
        elif rule.district is not None and rule.district in index.district_streets and where != rule.district:
            problems.append(
                Problem(
                    f"{path}.street",
                    f"street {rule.street!r} is in district {where!r}, not {rule.district!r}",
                )
            )
    if (
        rule.effective_from is not None
        and rule.effective_to is not None
        and rule.effective_to < rule.effective_from
    ):
        problems.append(
            Problem(
                f"{path}.effective_to",
                f"effective_to {rule.effective_to.isoformat()} is before "
                f"effective_from {rule.effective_from.isoformat()}",
            )
        )

    if rule.to_street_unit and rule.lead is not None:
        problems.append(
            Problem(
                path,
                "rule names both a street unit and a lead department kind; it must name exactly one",
            )
        )
        return problems
    if not rule.to_street_unit and rule.lead is None:
        problems.append(Problem(path, "rule names neither a street_unit_kind nor a lead department kind"))
        return problems

    streets = index.scope_streets(rule)
    if rule.to_street_unit:
        return problems + _street_unit_problems(rule, index, path, streets)
    return problems + _department_problems(rule, index, path, streets)


def _street_unit_problems(rule: Rule, index: ValidationIndex, path: str, streets: list[str]) -> list[Problem]:
    problems: list[Problem] = []
    kind = rule.street_unit_kind
    field_name = "street_unit" if rule.street_unit is not None else "street_unit_kind"
    wanted = rule.street_unit or kind
    if rule.co:
        problems.append(
            Problem(f"{path}.co", "co departments only go with a lead department, not a street unit")
        )
    if rule.category in index.categories and rule.category not in index.duty_categories:
        problems.append(
            Problem(
                f"{path}.{field_name}",
                f"category {rule.category!r} is not on the street duty list (街道职责清单), "
                f"so it cannot be sent to a street unit ({wanted}); route it to a lead department",
            )
        )
        return problems
    for street in streets:
        if rule.street_unit is None:
            if kind not in index.street_unit_kinds.get(street, set()):
                problems.append(
                    Problem(
                        f"{path}.street_unit_kind",
                        f"street {street!r} has no {kind} unit for {rule.category!r}",
                    )
                )
            continue
        code = f"{street}-{rule.street_unit}"
        found = index.unit_kinds.get(code)
        if found is None:
            problems.append(
                Problem(
                    f"{path}.street_unit", f"street {street!r} has no unit {code!r} for {rule.category!r}"
                )
            )
        elif kind is not None and found != kind:
            problems.append(Problem(f"{path}.street_unit", f"unit {code!r} is of kind {found}, not {kind}"))
    return problems


def _department_problems(rule: Rule, index: ValidationIndex, path: str, streets: list[str]) -> list[Problem]:
    assert rule.lead is not None
    problems: list[Problem] = []
    named = [("lead", rule.lead)] + [(f"co[{i}]", co) for i, co in enumerate(rule.co)]
    seen: set[str] = set()
    for where, dept_kind in named:
        if dept_kind in seen:
            problems.append(
                Problem(f"{path}.{where}", f"department kind {dept_kind!r} is named twice in the rule")
            )
            continue
        seen.add(dept_kind)
        if dept_kind not in index.department_kinds:
            problems.append(Problem(f"{path}.{where}", f"no department has kind {dept_kind!r}"))
            continue
        served = index.coverage.get(dept_kind, set())
        for street in streets:
            if street not in served:
                problems.append(
                    Problem(
                        f"{path}.{where}",
                        f"no agency of kind {dept_kind!r} serves street {street!r} "
                        f"({index.streets[street].name}) for {rule.category!r}",
                    )
                )
    return problems


def ranges_overlap(
    a: tuple[datetime | None, datetime | None], b: tuple[datetime | None, datetime | None]
) -> bool:
    """Whether two half-open effective ranges share an instant (None: unbounded; a range that ends
    where it starts is empty: a version withdrawn before it came into force)."""
    (a_from, a_to), (b_from, b_to) = a, b
    if (a_from is not None and a_from == a_to) or (b_from is not None and b_from == b_to):
        return False
    starts_before_b_ends = b_to is None or a_from is None or a_from < b_to
    ends_after_b_starts = a_to is None or b_from is None or b_from < a_to
    return starts_before_b_ends and ends_after_b_starts


def validate_rules(rules: Sequence[Rule], index: ValidationIndex, path: str = "rules") -> list[Problem]:
    """Every rule (see `validate_rule`) plus: no two rules for the same category and scope in force
    at the same time (rules with ranges that do not overlap are versions of one rule)."""
    problems: list[Problem] = []
    seen: dict[tuple[str, str | None, str | None], list[int]] = {}
    for i, rule in enumerate(rules):
        rp = f"{path}[{i}]"
        problems += validate_rule(rule, index, rp)
        key = (rule.category, rule.district, rule.street)
        earlier = seen.setdefault(key, [])
        clash = next((j for j in earlier if _rule_ranges_overlap(rules[j], rule)), None)
        earlier.append(i)
        if clash is None:
            continue
        scope = rule.street or rule.district or "the whole city"
        other = f"rule #{rules[clash].id}" if rules[clash].id is not None else f"{path}[{clash}]"
        if rule.effective_from is None and rule.effective_to is None:
            message = f"another rule for {rule.category!r} in {scope} comes first ({other})"
        else:
            message = (
                f"rule for {rule.category!r} in {scope} would be in force at the same time as {other}: "
                "their effective ranges overlap (change that rule instead, or retire it first)"
            )
        problems.append(Problem(rp, message))
    return problems


def _rule_ranges_overlap(a: Rule, b: Rule) -> bool:
    return ranges_overlap((a.effective_from, a.effective_to), (b.effective_from, b.effective_to))


# --- policies and clients ----------------------------------------------------------------------------


def validate_policies(policies: Policies, path: str = "policies") -> list[Problem]:
    problems: list[Problem] = []
    for urgency in SLA_URGENCIES:
        if urgency not in policies.sla:
            problems.append(Problem(f"{path}.sla", f"SLA policy for urgency {urgency!r} is missing"))
    return problems + validate_scoring(policies.scoring, f"{path}.scoring")


def validate_scoring(scoring: ScoringPolicy, path: str = "scoring") -> list[Problem]:
    """Weights ≥ 0 summing to 1 (within `WEIGHT_TOLERANCE`), a minimum sample of at least one."""
    problems: list[Problem] = []
    weights = {name: getattr(scoring, name) for name in _SCORING_WEIGHTS}
    for name, value in weights.items():
        if not math.isfinite(value) or value < 0:
            problems.append(Problem(f"{path}.{name}", f"scoring weight {name} must be ≥ 0, not {value}"))
    total = math.fsum(weights.values())
    if not abs(total - 1.0) <= WEIGHT_TOLERANCE:
        problems.append(Problem(path, f"scoring weights sum to {total:g}, not 1"))
    if scoring.min_sample < 1:
        problems.append(Problem(f"{path}.min_sample", "min_sample must be at least 1"))
    return problems


def check_policy_history(versions: Sequence[PolicyVersion], path: str = "policy_history") -> list[Problem]:
    """Each version names one policy; versions of the same policy are never in force together."""
    problems: list[Problem] = []
    seen: dict[str, list[int]] = {}
    for i, version in enumerate(versions):
        vp = f"{path}[{i}]"
        if (version.sla is None) == (version.scoring is None) or (version.sla is None) != (
            version.urgency is None
        ):
            problems.append(Problem(vp, "a policy version is either an SLA (with urgency) or scoring"))
            continue
        if version.scoring is not None:
            problems += validate_scoring(version.scoring, f"{vp}.scoring")
        span = (version.effective_from, version.effective_to)
        if span[0] is not None and span[1] is not None and span[1] < span[0]:
            problems.append(Problem(f"{vp}.effective_to", "effective_to is before effective_from"))
        key = f"sla {version.urgency}" if version.sla is not None else "scoring"
        earlier = seen.setdefault(key, [])
        for j in earlier:
            other = versions[j]
            if ranges_overlap(span, (other.effective_from, other.effective_to)):
                problems.append(
                    Problem(vp, f"{key} policy is in force at the same time as {path}[{j}]: ranges overlap")
                )
                break
        earlier.append(i)
    return problems


def check_calendar(overrides: Sequence[CalendarOverride], path: str = "calendar") -> list[Problem]:
    return _duplicates(
        "calendar date", [(f"{path}[{i}].date", o.date.isoformat()) for i, o in enumerate(overrides)]
    )


def check_clients(clients: Sequence[Client], index: ValidationIndex) -> list[Problem]:
    problems: list[Problem] = []
    for i, client in enumerate(clients):
        cp = f"clients[{i}]"
        if not client.secret:
            problems.append(Problem(f"{cp}.secret", f"client {client.client_id!r} has an empty secret"))
        if client.department is not None and client.department not in index.departments:
            problems.append(
                Problem(
                    f"{cp}.department",
                    f"client {client.client_id!r} names unknown department {client.department!r}",
                )
            )
        if client.street is not None and client.street not in index.street_district:
            problems.append(
                Problem(f"{cp}.street", f"client {client.client_id!r} names unknown street {client.street!r}")
            )
        if client.kind == "department" and client.department is None:
            problems.append(
                Problem(f"{cp}.department", f"department client {client.client_id!r} names no department")
            )
        if client.kind == "street" and client.street is None:
            problems.append(Problem(f"{cp}.street", f"street client {client.client_id!r} names no street"))
    return problems
