"""Who must answer a complaint: the pure routing over a city snapshot.

Rules, most specific first (street, then district, then city-wide), among those in force at the
moment routed for (`at`, default now; see `Rule.in_force`):
- a category on the street duty list may go to the street's own unit the rule names (`street_unit`,
  the unit code suffix) or else its first unit of the rule's kind;
- a matter not on the duty list may NOT be pushed down to the street: a rule that would do so is
  refused (and the refusal reported, for the audit) and the district backstop takes it;
- likewise a rule naming the committee of the complaint's community (`community_committee`) hands it
  the matter only when it is on the community duty list (社区工作准入清单); otherwise, or when the
  complaint names no community of that street, the rule is refused the same way;
- otherwise the lead department kind and any co kinds, each through the agency serving the street;
- no rule, or no serving agency for the lead → the district backstop (区级兜底).
Units named in `exclude` (those that returned the order) are passed over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.city import Rule
from shared.city_index import CityIndex

STREET, LEAD, CO, BACKSTOP, COMMUNITY = "street", "lead", "co", "backstop", "community"
ANSWERING_ROLES = frozenset({LEAD, STREET, BACKSTOP, COMMUNITY})
"""The roles whose report-back answers the complaint (co-departments only help)."""


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
    refused_to: str = "street"
    """Which level a refused push-down was aimed at: `street` or `community`."""

    @property
    def lead(self) -> Target:
        return self.targets[0]


class UnknownCode(LookupError):
    """A category or street the city does not have."""


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
    community_code: str | None = None,
) -> RouteDecision:
    """Who answers a complaint of `category` at `street_code` (in `community_code`, if known), by
    the rules in force at `at`."""
    check_known(index, category=category, street_code=street_code)
    backstop = Target(index.backstops[index.street_district[street_code]], None, BACKSTOP)
    rule = index.rule_for(category, street_code, at)
    if rule is None:
        return RouteDecision((backstop,), (f"no rule for {category}: district backstop",))

    if rule.community_committee:
        return _to_committee(index, rule, category, street_code, community_code, exclude, backstop)

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


def _to_committee(
    index: CityIndex,
    rule: Rule,
    category: str,
    street_code: str,
    community_code: str | None,
    exclude: frozenset[str],
    backstop: Target,
) -> RouteDecision:
    if category not in index.community_duty_categories:
        why = (
            f"{category} is not on the community duty list (社区工作准入清单): may not be pushed down "
            "to a community committee; district backstop"
        )
        return RouteDecision((backstop,), (why,), rule, refused_pushdown=True, refused_to="community")
    if community_code is None or index.community_street.get(community_code) != street_code:
        return RouteDecision((backstop,), (f"no community of {street_code} named: backstop",), rule)
    committee = index.committees[community_code]
    if committee in exclude:
        return RouteDecision((backstop,), (f"returned by {committee}: backstop",), rule)
    return RouteDecision(
        (Target(committee, None, COMMUNITY),),
        (f"{category} is on the community duty list: {rule.describe()} → committee: {committee}",),
        rule,
    )
