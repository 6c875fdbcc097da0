"""Checking the attribute values filed with a complaint against its category's attribute
definitions, in Open311's terms (datatypes, required inputs, list choices).

Both front doors file through it (`drafts.check`), so these are the city's rules for a category's
attributes rather than a matter of Open311's format; they live here because the definitions they
read are Open311 service definitions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC

from services.intake.open311.documents import (
    LIST_DATATYPES,
    AttributeDef,
    Open311Error,
    in_order,
    is_blank,
    parse_datetime,
)

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def validate_attribute_values(
    defs: Iterable[AttributeDef],
    values: Mapping[str, str | Sequence[str]],
    *,
    allow_unknown: bool = False,
) -> list[Open311Error]:
    """Every problem with submitted attribute values, one `Open311Error` (code 400) each.

    Checked per attribute, in `order`: a required input attribute is present; only a
    ``multivaluelist`` takes several values; ``singlevaluelist`` / ``multivaluelist`` values are
    among the allowed keys (one error per bad key); ``number`` values are decimal numbers
    (``12``, ``-3.5``, ``1e3``); ``datetime`` values are ISO-8601 (an offset is optional here).
    Then, unless `allow_unknown`, each submitted code the definition does not know, and each value
    given to an informational (``variable`` false) attribute, is an error too. An empty list means
    the values are acceptable.
    """
    ordered = in_order(defs)
    problems = [
        (d.code, problem)
        for d in ordered
        if d.variable
        for problem in _problems(d, _present(values.get(d.code)))
    ]
    if not allow_unknown:
        problems += _unexpected(values, {d.code: d for d in ordered})
    return [Open311Error(400, f"attribute[{code}] {problem}") for code, problem in problems]


def _present(value: str | Sequence[str] | None) -> list[str]:
    """The non-empty values of one attribute, as a list."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    return [v for v in items if not is_blank(v)]


def _problems(d: AttributeDef, given: list[str]) -> list[str]:
    """What is wrong with the values given to one input attribute."""
    if not given:
        detail = f" ({d.description})" if d.description else ""
        return [f"is required{detail}"] if d.required else []
    if len(given) > 1 and d.datatype != "multivaluelist":
        return [f"takes a single value, got {len(given)}"]
    if d.datatype in LIST_DATATYPES:
        allowed = [key for key, _ in d.values]
        choices = ", ".join(allowed) or "(none)"
        return [f"has no choice {v!r}; allowed keys: {choices}" for v in given if v not in allowed]
    if d.datatype == "number" and not _NUMBER.fullmatch(given[0].strip()):
        return [f"must be a number, got {given[0]!r}"]
    if d.datatype == "datetime" and not _is_datetime(given[0]):
        return [f"must be an ISO-8601 datetime such as 2026-11-24T21:34:07+08:00, got {given[0]!r}"]
    return []


def _is_datetime(text: str) -> bool:
    try:
        parse_datetime(text, assume_tz=UTC)
    except ValueError:
        return False
    return True


def _unexpected(
    values: Mapping[str, str | Sequence[str]], known: Mapping[str, AttributeDef]
) -> list[tuple[str, str]]:
    """Values given to codes the definition does not know, or to informational attributes."""
    problems: list[tuple[str, str]] = []
    for code, value in values.items():
        if not _present(value):
            continue
        definition = known.get(code)
        if definition is None:
            problems.append((code, "is not defined for this service"))
        elif not definition.variable:
            problems.append((code, "is informational and takes no value"))
    return problems
