"""What must hold after every registry write, and how a broken promise is reported (pure).

A write is checked twice: the entity itself (its polygon, its attributes …) and then the whole
structure it lives in: every rule still in force or scheduled must still be valid (the duty-list
guard, a serving agency for every street in a department rule's scope, a unit for every street in
a street-unit rule's scope), departments keep known parents without cycles, duty items name live
categories, agencies serve live streets of their district. Only problems the write *introduces*
are reported (the structure is compared before and after), so one old flaw never blocks every
later change.

Problem paths from `city_validation` use list indexes (`rules[3].lead`); `relabel` turns them into
codes (`rules[#12].lead`, `departments[cgw].agencies[dc-cgw].serves[1]`) and drops the prefix of
the entity being written, so its own problems point at fields of the request body.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from services.registry.city_validation import (
    Problem,
    ValidationIndex,
    check_categories,
    check_community_duty_list,
    check_departments,
    check_duplicate_codes,
    check_duty_list,
    check_policy_history,
    validate_policies,
    validate_rules,
)
from shared.city import CityData

_INDEXED = re.compile(r"^(\w+)\[(\d+)\]$")


def structure_problems(city: CityData) -> list[Problem]:
    """Everything `validate_city` checks except geometry and clients, on a city without communities."""
    index = ValidationIndex.build(city, geometry=False)
    return [
        *check_duplicate_codes(city),
        *check_departments(city, index),
        *check_categories(city),
        *check_duty_list(city, index),
        *check_community_duty_list(city, index),
        *validate_rules(city.rules, index),
        *validate_policies(city.policies),
        *check_policy_history(city.policy_history),
    ]


def introduced(
    before: tuple[CityData, Iterable[Problem]], after: tuple[CityData, Sequence[Problem]]
) -> list[Problem]:
    """Problems of the city after a write that it did not have before (compared by relabelled path,
    since list indexes shift, and message)."""
    old_city, old = before
    new_city, new = after
    seen = {(relabel(p.path, old_city), p.message) for p in old}
    return [p for p in new if (relabel(p.path, new_city), p.message) not in seen]


def _key(item: Any) -> str | None:
    for attribute in ("code", "client_id"):
        value = getattr(item, attribute, None)
        if isinstance(value, str):
            return value
    ident = getattr(item, "id", None)
    return f"#{ident}" if isinstance(ident, int) else None


def relabel(path: str, city: CityData, focus: str | None = None) -> str:
    """`departments[3].agencies[0].serves[1]` → `departments[cgw].agencies[dc-cgw].serves[1]`.

    `focus` names the entity being written as a relabelled path prefix (`departments[cgw]`,
    `rules[#12]`); a path inside it comes back relative to it (`agencies[dc-cgw].serves[1]`).
    """
    node: Any = city
    parts: list[str] = []
    for segment in path.split("."):
        match = _INDEXED.match(segment)
        if match is None:
            parts.append(segment)
            node = getattr(node, segment, None) if node is not None else None
            continue
        name, position = match.group(1), int(match.group(2))
        items = getattr(node, name, None) if node is not None else None
        item = items[position] if isinstance(items, list) and position < len(items) else None
        key = _key(item) if item is not None else None
        parts.append(f"{name}[{key}]" if key is not None else segment)
        node = item
        if focus is not None and ".".join(parts) == focus:
            parts = []
    return ".".join(parts) or "body"


def as_errors(problems: Sequence[Problem], city: CityData, focus: str | None = None) -> list[dict[str, str]]:
    """Problems as the `errors` of a 422 problem+json: one entry per problem."""
    return [{"field": relabel(p.path, city, focus), "message": p.message} for p in problems]
