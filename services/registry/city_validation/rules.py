"""Routing rules: references, one target, the duty list (no push-down), coverage, and no two rules
for one category and scope in force at once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from services.registry.city_validation.index import Problem, ValidationIndex
from shared.city import Rule


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
    if rule.community_committee and (rule.to_street_unit or rule.lead is not None):
        other = "a street unit" if rule.to_street_unit else "a lead department kind"
        problems.append(
            Problem(path, f"rule names both the community committee and {other}; it must name exactly one")
        )
        return problems
    if not rule.to_street_unit and rule.lead is None and not rule.community_committee:
        problems.append(
            Problem(
                path,
                "rule names neither a street_unit_kind nor a lead department kind "
                "(nor the community committee)",
            )
        )
        return problems

    streets = index.scope_streets(rule)
    if rule.community_committee:
        return problems + _committee_problems(rule, index, path)
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


def _committee_problems(rule: Rule, index: ValidationIndex, path: str) -> list[Problem]:
    """Only a matter on the community duty list may be handed to a community committee."""
    problems: list[Problem] = []
    if rule.co:
        problems.append(
            Problem(f"{path}.co", "co departments only go with a lead department, not a community committee")
        )
    if rule.category in index.categories and rule.category not in index.city.community_duty_categories:
        problems.append(
            Problem(
                f"{path}.community_committee",
                f"category {rule.category!r} is not on the community duty list (社区工作准入清单), "
                "so it cannot be handed to a community committee; "
                "route it to the street or a lead department",
            )
        )
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
        served = index.coverage.get(dept_kind, frozenset())
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
