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
- rules: exactly one target (a street unit, by kind and/or code suffix, the community committee,
  or a lead department kind); only categories on the street duty list (街道职责清单) may go to a
  street unit, only those on the community duty list (社区工作准入清单) to a community committee,
  and every street in the rule's scope must have such a unit; a department rule needs, for every
  street in its scope, an agency of the lead kind and of each co kind serving that street; an
  effective range that ends after it starts; no two rules for the same category and scope in force
  at the same time;
- policies: an SLA for each urgency, scoring weights summing to 1; policy versions of the same
  policy never in force at the same time;
- calendar: at most one local override per date;
- the community level: community duty list codes unique and categories known, sub-areas (居民小组,
  楼门院) with unique codes and polygons inside their community, community clients naming a known
  community.

The smaller functions (`validate_polygon`, `validate_community_polygon`, `validate_rule`,
`validate_rules`, `validate_policies`) check one piece against a `ValidationIndex` of an existing city, so an
API can validate a single change before applying it. `ValidationIndex.build(city, geometry=False)`
skips the polygons, for checks that only need the city's structure.
"""

from __future__ import annotations

from services.registry.city_validation.categories import check_categories, check_duty_list, validate_category
from services.registry.city_validation.clients import check_clients
from services.registry.city_validation.codes import check_duplicate_codes
from services.registry.city_validation.community import (
    check_community_clients,
    check_community_duty_list,
    check_sub_areas,
    sub_area_problems,
)
from services.registry.city_validation.departments import check_departments
from services.registry.city_validation.geography import (
    check_geography,
    find_overlaps,
    validate_community_polygon,
    validate_polygon,
)
from services.registry.city_validation.index import CommunityShape, CommunityShapes, Problem, ValidationIndex
from services.registry.city_validation.policies import (
    SLA_URGENCIES,
    WEIGHT_TOLERANCE,
    check_calendar,
    check_policy_history,
    validate_policies,
    validate_scoring,
)
from services.registry.city_validation.rules import ranges_overlap, validate_rule, validate_rules
from shared.city import CityData

__all__ = [
    "SLA_URGENCIES",
    "WEIGHT_TOLERANCE",
    "CommunityShape",
    "CommunityShapes",
    "Problem",
    "ValidationIndex",
    "check_calendar",
    "check_categories",
    "check_clients",
    "check_community_clients",
    "check_community_duty_list",
    "check_departments",
    "check_duplicate_codes",
    "check_duty_list",
    "check_geography",
    "check_policy_history",
    "check_sub_areas",
    "find_overlaps",
    "ranges_overlap",
    "sub_area_problems",
    "validate_category",
    "validate_city",
    "validate_community_polygon",
    "validate_policies",
    "validate_polygon",
    "validate_rule",
    "validate_rules",
    "validate_scoring",
]


def validate_city(city: CityData) -> list[Problem]:
    """Every problem in the city, in file order per check; empty when the city is valid."""
    index = ValidationIndex.build(city)
    problems: list[Problem] = []
    problems += check_duplicate_codes(city)
    problems += check_geography(index)
    problems += check_departments(city, index)
    problems += check_categories(city)
    problems += check_duty_list(city, index)
    problems += check_community_duty_list(city, index)
    problems += check_sub_areas(city)
    problems += validate_rules(city.rules, index)
    problems += validate_policies(city.policies)
    problems += check_policy_history(city.policy_history)
    problems += check_calendar(city.calendar)
    problems += check_clients(city.clients, index)
    problems += check_community_clients(city.clients, index)
    return problems
