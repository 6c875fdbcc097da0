"""Who a whistle summons: a street's own whistle, the whistle's kind, whether it asks for a visit."""

from __future__ import annotations

import pytest

from services.dispatch.summons import street_whistle_targets, visit_required, whistle_kind
from shared.city_index import CityIndex
from shared.errors import Unprocessable
from shared.routing import Target, route
from tests.conftest import tiny_city


@pytest.fixture
def index() -> CityIndex:
    return CityIndex.build(tiny_city())


def test_a_street_whistle_summons_the_departments_it_names_first_leading(index: CityIndex) -> None:
    targets, reasons = street_whistle_targets(
        index, category="garbage_piling", street_code="s1", departments=["cgw", "sw"]
    )
    assert targets == (Target("d1-cgw", "cgw", "lead"), Target("d1-sw", "sw", "co"))
    assert "summoned by street s1" in reasons[0]


def test_a_street_whistle_naming_no_department_summons_whom_the_rules_name(index: CityIndex) -> None:
    targets, _ = street_whistle_targets(
        index, category="illegal_construction", street_code="s2", departments=[]
    )
    assert [t.unit_code for t in targets] == ["d1-zjw", "d1-cgw"]


def test_a_street_whistle_for_its_own_duty_list_work_naming_no_department_is_refused(
    index: CityIndex,
) -> None:
    with pytest.raises(Unprocessable, match="cm-01") as refused:
        street_whistle_targets(index, category="garbage_piling", street_code="s1", departments=[])
    assert refused.value.errors is not None and refused.value.errors[0]["type"] == "duty_list"


def test_unknown_departments_are_all_reported_at_once(index: CityIndex) -> None:
    with pytest.raises(Unprocessable) as refused:
        street_whistle_targets(
            index, category="heating", street_code="s1", departments=["nope", "cgw", "gone"]
        )
    assert refused.value.errors is not None
    assert [e["field"] for e in refused.value.errors] == ["body.departments.0", "body.departments.2"]


def test_whistle_kind_and_visits(index: CityIndex) -> None:
    duty = route(index, category="garbage_piling", street_code="s1")
    departments = route(index, category="illegal_construction", street_code="s1")
    nobody = route(index, category="heating", street_code="s1")
    assert [whistle_kind(d) for d in (duty, departments, nobody)] == ["duty_street", "department", "backstop"]
    assert visit_required(index, category="garbage_piling", urgency="normal", kind="duty_street")
    assert visit_required(index, category="water_supply", urgency="emergency", kind="department")
    assert not visit_required(index, category="illegal_construction", urgency="normal", kind="department")
    assert visit_required(index, category="illegal_construction", urgency="normal", kind="street_whistle")
