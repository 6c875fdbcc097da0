"""Checks added for versioned rules and policies, street units named by code, and the calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.registry.city_validation import (
    ValidationIndex,
    check_calendar,
    check_policy_history,
    ranges_overlap,
    validate_city,
    validate_rule,
    validate_rules,
)
from shared.city import CalendarOverride, CityData, PolicyVersion, Rule, ScoringPolicy, SlaPolicy, load_city
from tests.conftest import TINY_CITY

JAN = datetime(2026, 1, 1, tzinfo=UTC)
FEB = datetime(2026, 2, 1, tzinfo=UTC)
MAR = datetime(2026, 3, 1, tzinfo=UTC)
SLA = SlaPolicy(sign_off="30m", contact="24h", report_in="24h", resolve="7d")
SCORING = ScoringPolicy(response=0.2, resolution=0.3, satisfaction=0.3, on_time=0.1, street_evaluation=0.1)


@pytest.fixture(scope="module")
def tiny() -> CityData:
    return load_city(TINY_CITY)


@pytest.fixture(scope="module")
def index(tiny: CityData) -> ValidationIndex:
    return ValidationIndex.build(tiny)


def test_rule_naming_a_unit_every_street_has_is_valid(index: ValidationIndex) -> None:
    rule = Rule(category="garbage_piling", street_unit_kind="enforcement_team", street_unit="enforcement")
    assert validate_rule(rule, index) == []


def test_rule_naming_a_unit_some_street_lacks_is_reported_per_street(index: ValidationIndex) -> None:
    problems = validate_rule(Rule(category="garbage_piling", street_unit="city-office"), index)
    assert [(p.path, p.message) for p in problems] == [
        ("rule.street_unit", "street 's2' has no unit 's2-city-office' for 'garbage_piling'")
    ]


def test_rule_naming_a_unit_of_another_kind_is_reported(index: ValidationIndex) -> None:
    rule = Rule(category="garbage_piling", street="s1", street_unit_kind="centre", street_unit="city-office")
    problems = validate_rule(rule, index)
    assert [p.message for p in problems] == ["unit 's1-city-office' is of kind office, not centre"]


def test_street_unit_rule_for_an_off_list_category_names_the_category_and_the_list(
    index: ValidationIndex,
) -> None:
    problems = validate_rule(Rule(category="heating", street_unit="city-office"), index)
    assert len(problems) == 1
    assert problems[0].path == "rule.street_unit"
    assert "'heating' is not on the street duty list (街道职责清单)" in problems[0].message


def test_rule_with_a_unit_and_a_lead_is_refused(index: ValidationIndex) -> None:
    problems = validate_rule(
        Rule(category="garbage_piling", street_unit="enforcement", lead="housing"), index
    )
    assert "exactly one" in problems[0].message


def test_rule_ending_before_it_starts_is_reported(index: ValidationIndex) -> None:
    problems = validate_rule(
        Rule(category="heating", lead="housing", effective_from=FEB, effective_to=JAN), index
    )
    assert [p.path for p in problems] == ["rule.effective_to"]


def test_versions_of_a_rule_that_follow_each_other_are_fine(index: ValidationIndex) -> None:
    rules = [
        Rule(id=1, category="heating", lead="housing", effective_to=FEB),
        Rule(id=2, category="heating", lead="water", effective_from=FEB, effective_to=MAR),
        Rule(id=3, category="heating", lead="housing", effective_from=MAR),
    ]
    assert validate_rules(rules, index) == []


def test_overlapping_versions_of_a_rule_are_reported(index: ValidationIndex) -> None:
    rules = [
        Rule(id=1, category="heating", lead="housing", effective_to=MAR),
        Rule(id=2, category="heating", lead="water", effective_from=FEB),
    ]
    problems = validate_rules(rules, index)
    assert [p.path for p in problems] == ["rules[1]"]
    assert "at the same time as rule #1" in problems[0].message


def test_ranges_overlap_half_open_and_empty() -> None:
    assert ranges_overlap((None, None), (JAN, FEB))
    assert not ranges_overlap((None, FEB), (FEB, None))
    assert ranges_overlap((None, MAR), (FEB, None))
    assert not ranges_overlap((FEB, FEB), (None, None))  # withdrawn before it came into force


def test_policy_versions_of_the_same_policy_may_not_overlap() -> None:
    versions = [
        PolicyVersion(urgency="normal", sla=SLA, effective_to=FEB),
        PolicyVersion(urgency="normal", sla=SLA, effective_from=JAN),
        PolicyVersion(urgency="urgent", sla=SLA, effective_from=JAN),
        PolicyVersion(scoring=SCORING),
    ]
    problems = check_policy_history(versions)
    assert [p.path for p in problems] == ["policy_history[1]"]
    assert "sla normal" in problems[0].message


def test_policy_version_must_be_one_kind() -> None:
    problems = check_policy_history([PolicyVersion(urgency="normal", sla=SLA, scoring=SCORING)])
    assert [p.path for p in problems] == ["policy_history[0]"]


def test_scoring_version_weights_must_sum_to_one() -> None:
    heavy = SCORING.model_copy(update={"response": 0.5})
    problems = check_policy_history([PolicyVersion(scoring=heavy)])
    assert [(p.path, p.message) for p in problems] == [
        ("policy_history[0].scoring", "scoring weights sum to 1.3, not 1")
    ]


def test_calendar_date_overridden_twice_is_reported(tiny: CityData) -> None:
    overrides = [
        CalendarOverride(date=date(2026, 7, 20), workday=False),
        CalendarOverride(date=date(2026, 7, 20), workday=True),
    ]
    assert [p.path for p in check_calendar(overrides)] == ["calendar[1].date"]
    assert [p.path for p in validate_city(tiny.model_copy(update={"calendar": overrides}))] == [
        "calendar[1].date"
    ]
