"""Returns (退单): who may return, where a returned order goes, and the bounce limit."""

from __future__ import annotations

import pytest

from services.dispatch.returns import Reroute, check_may_return, where_next
from shared.city import Agency, CityData
from shared.city_index import CityIndex
from shared.errors import Unprocessable
from shared.routing import Target, route
from tests.conftest import tiny_city

BACKSTOP = Target("d1-backstop", None, "backstop")


def city_with_second_housing_agency() -> CityData:
    city = tiny_city()
    departments = [
        d.model_copy(
            update={
                "agencies": [
                    *d.agencies,
                    Agency(code="d1-zjw-2", name="东区住建二所", district="d1", serves=["s1"]),
                ]
            }
        )
        if d.code == "zjw"
        else d
        for d in city.departments
    ]
    return city.model_copy(update={"departments": departments})


def next_after(
    index: CityIndex, returned: Target, returned_units: list[str], on_whistle: set[str], limit: int = 2
) -> Reroute | None:
    decision = route(
        index, category="illegal_construction", street_code="s1", exclude=frozenset(returned_units)
    )
    return where_next(
        returned=returned,
        decision=decision,
        backstop=BACKSTOP,
        returns=len(returned_units),
        bounce_limit=limit,
        on_whistle=on_whistle,
        department_kinds={code: d.kind for code, d in index.departments.items()},
    )


def test_returned_lead_goes_to_the_next_agency_the_rules_name() -> None:
    index = CityIndex.build(city_with_second_housing_agency())
    lead = Target("d1-zjw", "zjw", "lead")
    plan = next_after(index, lead, ["d1-zjw"], {"d1-zjw", "d1-cgw"})
    assert plan is not None and plan.target == Target("d1-zjw-2", "zjw", "lead")
    assert not plan.to_backstop and "d1-zjw-2" in plan.reason


def test_return_after_two_bounces_goes_to_district_backstop() -> None:
    index = CityIndex.build(city_with_second_housing_agency())
    second = Target("d1-zjw-2", "zjw", "lead")
    plan = next_after(index, second, ["d1-zjw", "d1-zjw-2"], {"d1-zjw", "d1-zjw-2", "d1-cgw"})
    assert plan == Reroute(BACKSTOP, "2 returns reach the bounce limit of 2: district backstop", True)


def test_a_higher_bounce_limit_keeps_rerouting_by_the_rules() -> None:
    index = CityIndex.build(city_with_second_housing_agency())
    plan = next_after(index, Target("d1-zjw", "zjw", "lead"), ["d1-zjw"], {"d1-zjw"}, limit=1)
    assert plan is not None and plan.to_backstop


def test_with_no_other_agency_the_returned_lead_goes_to_the_backstop() -> None:
    index = CityIndex.build(tiny_city())
    plan = next_after(index, Target("d1-zjw", "zjw", "lead"), ["d1-zjw"], {"d1-zjw", "d1-cgw"})
    assert plan is not None and plan.target == BACKSTOP and plan.to_backstop and not plan.existing


def test_a_backstop_already_helping_becomes_the_answering_unit() -> None:
    index = CityIndex.build(tiny_city())
    plan = next_after(index, Target("d1-zjw", "zjw", "lead"), ["d1-zjw"], {"d1-zjw", "d1-backstop"})
    assert plan is not None and plan.existing and plan.target == BACKSTOP


def test_a_returned_co_department_is_not_replaced_when_no_other_agency_of_its_kind_serves() -> None:
    index = CityIndex.build(tiny_city())
    assert next_after(index, Target("d1-cgw", "cgw", "co"), ["d1-cgw"], {"d1-zjw", "d1-cgw"}) is None


def test_a_street_unit_may_not_return_a_matter_on_the_street_duty_list() -> None:
    with pytest.raises(Unprocessable) as refused:
        check_may_return(role="street", category="garbage_piling", city=tiny_city())
    assert "cm-01" in refused.value.detail
    assert refused.value.errors is not None and "cm-01" in refused.value.errors[0]["message"]
    check_may_return(role="lead", category="garbage_piling", city=tiny_city())
    check_may_return(role="street", category="illegal_construction", city=tiny_city())
