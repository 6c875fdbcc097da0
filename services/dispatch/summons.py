"""Who a whistle summons and what it asks of them (pure).

- A complaint's whistle summons what `shared.routing.route` decides; its kind says how: the street's
  own unit for a duty-list matter (`duty_street`), departments (`department`) or the district
  backstop (`backstop`).
- A street's own whistle (吹哨, `street_whistle`) is for a matter the street cannot solve alone. It
  summons the departments it names, each through the agency of that department serving the street
  (the first named leads, the others are co-departments), or else whom the routing rules name. A
  matter on the street's own duty list that names no department is the street's own work: refused.
- A community's own whistle (社区吹哨, `community_whistle`) summons its street: see
  `community_summons`; a complaint the rules hand to a community committee is `duty_community`.
- A whistle asks for a visit (报到 on site, so SLA runs a report_in clock) when it is a street's or a
  community's own whistle (the summoned units must report in), when its category is on the street
  duty list (the street's unit goes there), or when its urgency is emergency or urgent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.dispatch.returns import duty_item_of
from shared.city_index import CityIndex
from shared.errors import Unprocessable
from shared.events import WhistleKind
from shared.routing import BACKSTOP, CO, COMMUNITY, LEAD, STREET, RouteDecision, Target, route

VISIT_URGENCIES = frozenset({"emergency", "urgent"})


def whistle_kind(decision: RouteDecision) -> WhistleKind:
    role = decision.lead.role
    if role == STREET:
        return "duty_street"
    if role == BACKSTOP:
        return "backstop"
    if role == COMMUNITY:
        return "duty_community"
    return "department"


def visit_required(index: CityIndex, *, category: str, urgency: str, kind: WhistleKind) -> bool:
    own_whistle = kind in ("street_whistle", "community_whistle")
    return own_whistle or category in index.duty_categories or urgency in VISIT_URGENCIES


def street_whistle_targets(
    index: CityIndex, *, category: str, street_code: str, departments: Sequence[str]
) -> tuple[tuple[Target, ...], tuple[str, ...]]:
    """The units a street's own whistle summons and why; Unprocessable with every problem at once."""
    if not departments:
        item = duty_item_of(index.city, category)
        if item is not None:
            raise Unprocessable(
                f"{category} is on the street duty list ({item.code} {item.name}): the street's own work",
                errors=[
                    {
                        "field": "body.departments",
                        "message": f"{category} is the street's own work ({item.code} {item.name}); "
                        "name the departments the street needs",
                        "type": "duty_list",
                    }
                ],
            )
        decision = route(index, category=category, street_code=street_code)
        return decision.targets, decision.reasons
    errors: list[dict[str, Any]] = []
    targets: list[Target] = []
    for i, code in enumerate(departments):
        agency, problem = _agency_of(index, code, street_code)
        if agency is None:
            errors.append({"field": f"body.departments.{i}", "message": problem, "type": "department"})
        elif agency not in {t.unit_code for t in targets}:
            targets.append(Target(agency, code, LEAD if not targets else CO))
    if errors:
        raise Unprocessable("The whistle names departments that cannot answer it.", errors=errors)
    reasons = tuple(f"summoned by street {street_code}: {t.department_code} → {t.unit_code}" for t in targets)
    return tuple(targets), reasons


def _agency_of(index: CityIndex, department_code: str, street_code: str) -> tuple[str | None, str]:
    """The agency of the department serving the street, or None and why there is none."""
    department = index.departments.get(department_code)
    if department is None:
        return None, f"unknown department {department_code!r}"
    for agency, code in index.agencies.get((department.kind, street_code), ()):
        if code == department_code:
            return agency, ""
    return None, f"no agency of {department_code} serves {street_code}"
