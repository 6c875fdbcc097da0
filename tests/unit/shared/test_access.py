"""Who may act for which unit: departments for their agencies, streets for their own units."""

from __future__ import annotations

import pytest

from shared.access import Principal, check_may_read_department, check_may_read_unit, may_act_for_unit
from shared.city_index import CityIndex
from shared.errors import Forbidden
from tests.conftest import tiny_city

OWNERS = CityIndex.build(tiny_city()).owners


def create_principal(
    kind: str = "department", *, department: str | None = None, street: str | None = None
) -> Principal:
    return Principal(
        client_id=f"{kind}-x", kind=kind, scopes=frozenset(), department=department, street=street
    )


def test_department_acts_for_its_own_agencies_only() -> None:
    water = create_principal(department="sw")
    assert may_act_for_unit(water, OWNERS["d1-sw"])
    assert not may_act_for_unit(water, OWNERS["d1-zjw"])
    assert not may_act_for_unit(water, OWNERS["s1-enforcement"])


def test_street_acts_for_its_own_units_only() -> None:
    street = create_principal("street", street="s1")
    assert may_act_for_unit(street, OWNERS["s1-enforcement"])
    assert not may_act_for_unit(street, OWNERS["s2-enforcement"])
    assert not may_act_for_unit(street, OWNERS["d1-sw"])


def test_nobody_but_admin_acts_for_an_unknown_unit() -> None:
    assert not may_act_for_unit(create_principal(department="sw"), OWNERS.get("d1-backstop"))
    assert may_act_for_unit(create_principal("admin"), OWNERS.get("d1-backstop"))


def test_viewer_reads_every_queue_but_a_department_only_its_own() -> None:
    check_may_read_department(create_principal("viewer"), "zjw")
    check_may_read_unit(create_principal("viewer"), "s2-enforcement", OWNERS["s2-enforcement"])
    check_may_read_department(create_principal(department="zjw"), "zjw")
    with pytest.raises(Forbidden):
        check_may_read_department(create_principal(department="sw"), "zjw")
    with pytest.raises(Forbidden):
        check_may_read_unit(
            create_principal("street", street="s1"), "s2-enforcement", OWNERS["s2-enforcement"]
        )
