"""Who sees which clocks, evaluations and scorecards, and who evaluates whom (shared.access, sla)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.sla.evaluations import EvaluationIn, problems
from services.sla.units import Directory
from shared.access import (
    Principal,
    SlaScope,
    check_may_close_period,
    check_may_evaluate,
    check_may_read_scorecard,
    check_within_scope,
    evaluations_scope,
    may_see_clock,
    scopes_for,
)
from shared.city_index import CityIndex
from shared.errors import Forbidden
from tests.conftest import tiny_city

NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


def principal(kind: str, **bound: str) -> Principal:
    return Principal(client_id=f"{kind}-x", kind=kind, scopes=scopes_for(kind), **bound)


ZJW = principal("department", department="zjw")
S1 = principal("street", street="s1")
D1 = principal("district", district="d1")


def sees(
    p: Principal, *, department: str | None = "zjw", street: str = "s1", stage: str = "sign_off"
) -> bool:
    return may_see_clock(p, department_code=department, street_code=street, district_code="d1", stage=stage)


def test_a_department_sees_its_own_units_clocks_only() -> None:
    assert sees(ZJW) and not sees(ZJW, department="cgw")


def test_a_street_sees_its_streets_clocks_and_a_district_its_districts() -> None:
    assert sees(S1) and not sees(S1, street="s2")
    assert sees(D1) and not sees(principal("district", district="d2"))


def test_the_hotline_sees_the_resolve_deadline_and_admin_and_viewer_everything() -> None:
    hotline = principal("hotline")
    assert sees(hotline, stage="resolve") and not sees(hotline)
    assert sees(principal("admin"), department="cgw") and sees(principal("viewer"), street="s2")


def test_evaluations_are_read_within_the_clients_scope() -> None:
    assert evaluations_scope(ZJW) == SlaScope(department="zjw")
    assert evaluations_scope(S1) == SlaScope(street="s1")
    assert evaluations_scope(principal("viewer")) == SlaScope()
    with pytest.raises(Forbidden):
        evaluations_scope(principal("hotline"))
    with pytest.raises(Forbidden):
        check_within_scope(SlaScope(street="s1"), street="s2", street_district="d1", department=None)
    with pytest.raises(Forbidden):
        check_within_scope(SlaScope(department="zjw"), street=None, street_district=None, department="cgw")
    check_within_scope(SlaScope(district="d1"), street="s2", street_district="d1", department=None)


def test_a_street_evaluates_only_the_agencies_serving_it() -> None:
    check_may_evaluate(S1, unit_code="d1-zjw", serves={"s1", "s2"})
    with pytest.raises(Forbidden):
        check_may_evaluate(S1, unit_code="far-agency", serves={"s2"})
    with pytest.raises(Forbidden):
        check_may_evaluate(ZJW, unit_code="d1-zjw", serves={"s1"})


def test_a_department_may_not_read_another_departments_scorecard() -> None:
    check_may_read_scorecard(
        ZJW, unit_code="d1-zjw", department_code="zjw", street_code=None, districts={"d1"}
    )
    with pytest.raises(Forbidden):
        check_may_read_scorecard(
            ZJW, unit_code="d1-cgw", department_code="cgw", street_code=None, districts={"d1"}
        )
    with pytest.raises(Forbidden):
        check_may_read_scorecard(S1, unit_code="s2", department_code=None, street_code="s2", districts={"d1"})
    check_may_read_scorecard(
        D1, unit_code="d1-cgw", department_code="cgw", street_code=None, districts={"d1"}
    )


def test_only_an_admin_closes_a_period() -> None:
    check_may_close_period(principal("admin"))
    with pytest.raises(Forbidden):
        check_may_close_period(principal("viewer"))


UNITS = Directory(CityIndex.build(tiny_city()))


def test_every_problem_of_an_evaluation_is_reported_at_once() -> None:
    found, period = problems(EvaluationIn("nobody", "2026-13", 140.0, "x" * 2001), units=UNITS, now=NOW)
    assert period is None
    assert {p["field"] for p in found} == {"score", "period", "unit_code", "comment"}


def test_an_evaluation_is_of_an_agency_for_a_period_begun() -> None:
    found, period = problems(EvaluationIn("d1-zjw", "2026-12", 85.0), units=UNITS, now=NOW)
    assert found == [] and str(period) == "2026-12"
    future, _ = problems(EvaluationIn("d1-zjw", "2027-01", 85.0), units=UNITS, now=NOW)
    street_unit, _ = problems(EvaluationIn("s1-enforcement", "2026-12", 85.0), units=UNITS, now=NOW)
    assert [p["field"] for p in future] == ["period"]
    assert [p["field"] for p in street_unit] == ["unit_code"]
