"""What a registry write may not break, and how its problems are named (pure)."""

from __future__ import annotations

import pytest

from services.registry.city_validation import Problem
from services.registry.guards import as_errors, introduced, relabel, structure_problems
from shared.city import Agency, CityData, DutyItem, Rule, load_city
from tests.conftest import TINY_CITY


@pytest.fixture(scope="module")
def tiny() -> CityData:
    city = load_city(TINY_CITY)
    rules = [r.model_copy(update={"id": 10 + i}) for i, r in enumerate(city.rules)]
    return city.model_copy(update={"rules": rules})


def with_water_serving(city: CityData, streets: list[str]) -> CityData:
    departments = [
        d.model_copy(update={"agencies": [Agency(code="d1-sw", name="水务", district="d1", serves=streets)]})
        if d.code == "sw"
        else d
        for d in city.departments
    ]
    return city.model_copy(update={"departments": departments})


def test_the_tiny_city_has_no_structure_problems(tiny: CityData) -> None:
    assert structure_problems(tiny) == []


def test_an_agency_dropping_a_street_a_department_rule_needs_is_a_new_problem(tiny: CityData) -> None:
    after = with_water_serving(tiny, ["s1"])
    new = introduced((tiny, structure_problems(tiny)), (after, structure_problems(after)))
    assert as_errors(new, after) == [
        {
            "field": "rules[#12].lead",
            "message": "no agency of kind 'water' serves street 's2' (二街道) for 'water_supply'",
        }
    ]


def test_taking_a_category_off_the_duty_list_breaks_its_street_unit_rule(tiny: CityData) -> None:
    block = tiny.duty_list[0]
    emptied = block.model_copy(update={"items": [DutyItem(code="cm-01", name="街巷环境卫生", categories=[])]})
    after = tiny.model_copy(update={"duty_list": [emptied]})
    new = introduced((tiny, []), (after, structure_problems(after)))
    assert [e["field"] for e in as_errors(new, after)] == ["rules[#10].street_unit_kind"]
    assert "not on the street duty list" in new[0].message


def test_a_problem_the_city_already_had_is_not_blamed_on_the_write(tiny: CityData) -> None:
    broken = with_water_serving(tiny, ["s1"])
    old = structure_problems(broken)
    assert old
    renamed = broken.model_copy(update={"city": broken.city.model_copy(update={"name": "新名"})})
    assert introduced((broken, old), (renamed, structure_problems(renamed))) == []


def test_paths_name_entities_by_code(tiny: CityData) -> None:
    assert (
        relabel("departments[2].agencies[0].serves[1]", tiny) == "departments[sw].agencies[d1-sw].serves[1]"
    )
    assert relabel("districts[0].streets[1].communities[0].polygon", tiny) == (
        "districts[d1].streets[s2].communities[s2-01].polygon"
    )
    assert relabel("rules[2].co[0]", tiny) == "rules[#12].co[0]"
    assert relabel("policies.scoring", tiny) == "policies.scoring"
    assert relabel("rules[99].lead", tiny) == "rules[99].lead"


def test_paths_inside_the_written_entity_read_relative_to_the_request(tiny: CityData) -> None:
    assert relabel("rules[2].lead", tiny, focus="rules[#12]") == "lead"
    assert relabel("rules[2]", tiny, focus="rules[#12]") == "body"
    assert relabel("departments[2].agencies[0].serves[1]", tiny, focus="departments[sw].agencies[d1-sw]") == (
        "serves[1]"
    )
    assert relabel("rules[1].lead", tiny, focus="rules[#12]") == "rules[#11].lead"


def test_one_error_entry_per_problem(tiny: CityData) -> None:
    problems = [Problem("rules[0].lead", "a"), Problem("rules[0].co[0]", "b"), Problem("x", "c")]
    assert [e["message"] for e in as_errors(problems, tiny)] == ["a", "b", "c"]


def test_a_rule_in_the_structure_is_checked_with_its_range(tiny: CityData) -> None:
    rules = [*tiny.rules, Rule(id=99, category="water_supply", lead="housing")]
    after = tiny.model_copy(update={"rules": rules})
    problems = structure_problems(after)
    assert [relabel(p.path, after) for p in problems] == ["rules[#99]"]
    assert "comes first (rule #12)" in problems[0].message
