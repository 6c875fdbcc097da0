"""A rule's new version: what the patch changes and what it keeps (pure)."""

from __future__ import annotations

from services.registry import models as m
from services.registry.changes.rules import new_target
from services.registry.schemas import RulePatch


def create_rule(**fields: object) -> m.Rule:
    defaults: dict[str, object] = {"street_unit_kind": None, "street_unit": None, "lead": None, "co": []}
    return m.Rule(category="noise", **(defaults | fields))


def test_naming_a_lead_turns_a_street_unit_rule_into_a_department_rule() -> None:
    old = create_rule(street_unit_kind="office", street_unit="safety")
    assert new_target(old, RulePatch(lead="environment", co=["public_security"])) == {
        "street_unit_kind": None,
        "street_unit": None,
        "lead": "environment",
        "co": ["public_security"],
    }


def test_naming_a_street_unit_drops_the_lead_and_co_departments() -> None:
    old = create_rule(lead="environment", co=["public_security"])
    assert new_target(old, RulePatch(street_unit="safety")) == {
        "street_unit_kind": None,
        "street_unit": "safety",
        "lead": None,
        "co": [],
    }


def test_changing_only_the_co_departments_keeps_the_lead() -> None:
    old = create_rule(lead="environment", co=["public_security"])
    target = new_target(old, RulePatch(co=[]))
    assert (target["lead"], target["co"]) == ("environment", [])
