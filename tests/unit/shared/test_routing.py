"""Routing of the walking skeleton's city (tests/data/tiny_city.yaml)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.city import CityData, Rule
from shared.city_index import CityIndex
from shared.routing import UnknownCode, route
from tests.conftest import tiny_city


@pytest.fixture(scope="module")
def city() -> CityData:
    return tiny_city()


def create_index(city: CityData, *, rules: list[Rule] | None = None) -> CityIndex:
    return CityIndex.build(city.model_copy(update={"rules": rules}) if rules is not None else city, version=1)


def test_duty_list_matter_goes_to_the_streets_own_unit(city: CityData) -> None:
    decision = route(create_index(city), category="garbage_piling", street_code="s2")
    assert [(t.unit_code, t.role) for t in decision.targets] == [("s2-enforcement", "street")]
    assert not decision.refused_pushdown


def test_off_list_matter_goes_to_lead_and_co_agencies_serving_the_street(city: CityData) -> None:
    decision = route(create_index(city), category="illegal_construction", street_code="s1")
    assert [(t.unit_code, t.department_code, t.role) for t in decision.targets] == [
        ("d1-zjw", "zjw", "lead"),
        ("d1-cgw", "cgw", "co"),
    ]


def test_matter_with_no_rule_goes_to_district_backstop(city: CityData) -> None:
    decision = route(create_index(city), category="heating", street_code="s1")
    assert [(t.unit_code, t.role) for t in decision.targets] == [("d1-backstop", "backstop")]


def test_rule_pushing_off_list_matter_down_to_street_is_refused(city: CityData) -> None:
    bad = [Rule(category="water_supply", street_unit_kind="enforcement_team")]
    decision = route(create_index(city, rules=bad), category="water_supply", street_code="s1")
    assert decision.refused_pushdown
    assert [t.unit_code for t in decision.targets] == ["d1-backstop"]
    assert "not on the street duty list" in decision.reasons[0]


def test_street_rule_wins_over_city_wide_rule(city: CityData) -> None:
    rules = [
        Rule(category="water_supply", lead="water"),
        Rule(category="water_supply", street="s2", lead="housing"),
    ]
    index = create_index(city, rules=rules)
    assert route(index, category="water_supply", street_code="s2").lead.unit_code == "d1-zjw"
    assert route(index, category="water_supply", street_code="s1").lead.unit_code == "d1-sw"


def test_excluded_unit_is_passed_over(city: CityData) -> None:
    decision = route(
        create_index(city), category="water_supply", street_code="s1", exclude=frozenset({"d1-sw"})
    )
    assert decision.lead.unit_code == "d1-backstop"


def test_unknown_category_or_street_is_an_error(city: CityData) -> None:
    with pytest.raises(UnknownCode):
        route(create_index(city), category="nope", street_code="s1")
    with pytest.raises(UnknownCode):
        route(create_index(city), category="heating", street_code="nowhere")


# --- street units by code, and rules by the time they were in force --------------------------------

JAN = datetime(2026, 1, 1, tzinfo=UTC)
FEB = datetime(2026, 2, 1, tzinfo=UTC)
MAR = datetime(2026, 3, 1, tzinfo=UTC)


def test_rule_naming_a_unit_goes_to_that_office_of_the_street(city: CityData) -> None:
    rules = [Rule(category="garbage_piling", street_unit_kind="office", street_unit="city-office")]
    decision = route(create_index(city, rules=rules), category="garbage_piling", street_code="s1")
    assert [(t.unit_code, t.role) for t in decision.targets] == [("s1-city-office", "street")]


def test_street_without_the_named_unit_falls_back_to_its_unit_of_the_kind(city: CityData) -> None:
    rules = [Rule(category="garbage_piling", street_unit_kind="enforcement_team", street_unit="squad")]
    decision = route(create_index(city, rules=rules), category="garbage_piling", street_code="s2")
    assert decision.lead.unit_code == "s2-enforcement"


def test_street_without_the_named_unit_and_no_kind_goes_to_backstop(city: CityData) -> None:
    rules = [Rule(category="garbage_piling", street_unit="city-office")]
    decision = route(create_index(city, rules=rules), category="garbage_piling", street_code="s2")
    assert decision.lead.unit_code == "d1-backstop"
    assert "no unit city-office at s2" in decision.reasons[0]


def test_complaint_is_routed_by_the_rules_in_force_when_it_arrived(city: CityData) -> None:
    rules = [
        Rule(id=1, category="water_supply", lead="water", effective_to=FEB),
        Rule(id=2, category="water_supply", lead="housing", effective_from=FEB),
    ]
    index = create_index(city, rules=rules)
    assert route(index, category="water_supply", street_code="s1", at=JAN).lead.unit_code == "d1-sw"
    assert route(index, category="water_supply", street_code="s1", at=MAR).lead.unit_code == "d1-zjw"
    assert route(index, category="water_supply", street_code="s1").lead.unit_code == "d1-zjw"


def test_rule_not_yet_in_force_leaves_the_matter_to_the_backstop(city: CityData) -> None:
    rules = [Rule(category="water_supply", lead="water", effective_from=MAR)]
    decision = route(create_index(city, rules=rules), category="water_supply", street_code="s1", at=FEB)
    assert decision.lead.unit_code == "d1-backstop"


def test_candidates_are_every_rule_in_scope_most_specific_first(city: CityData) -> None:
    rules = [
        Rule(id=1, category="water_supply", lead="water"),
        Rule(id=2, category="water_supply", district="d1", lead="housing"),
        Rule(id=3, category="water_supply", street="s2", lead="city_management"),
        Rule(id=4, category="water_supply", street="s1", lead="city_management"),
    ]
    index = create_index(city, rules=rules)
    assert [r.id for r in index.candidates("water_supply", "s2")] == [3, 2, 1]


def test_reasons_name_the_rule_that_decided(city: CityData) -> None:
    rules = [Rule(id=7, category="water_supply", district="d1", lead="water")]
    decision = route(create_index(city, rules=rules), category="water_supply", street_code="s1")
    assert decision.reasons[0] == "rule #7 (water_supply, d1) → lead water: d1-sw"
