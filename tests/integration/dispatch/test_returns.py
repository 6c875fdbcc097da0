"""Returns on the real PostgreSQL: re-routed by the rules excluding who returned, to the district
backstop after the bounce limit; the backstop answers; completion closes the co-departments."""

from __future__ import annotations

from typing import Any

import pytest

from shared.city import Agency, CityData
from tests.conftest import tiny_city
from tests.integration.dispatch.conftest import DispatchDb

pytestmark = pytest.mark.integration


def with_second_housing_agency() -> CityData:
    city = tiny_city()
    second = Agency(code="d1-zjw-2", name="东区住建二所", district="d1", serves=["s1"])
    departments = [
        d.model_copy(update={"agencies": [*d.agencies, second]}) if d.code == "zjw" else d
        for d in city.departments
    ]
    return city.model_copy(update={"departments": departments})


async def whistle_of(dispatch: DispatchDb, complaint_id: str) -> dict[str, Any]:
    async with dispatch.client("viewer") as viewer:
        (whistle,) = (await viewer.get("/v1/whistles", params={"complaint_id": complaint_id})).json()
    return whistle  # type: ignore[no-any-return]


def unit(whistle: dict[str, Any], code: str) -> dict[str, Any]:
    return next(a for a in whistle["assignments"] if a["unit_code"] == code)


async def test_return_reroutes_then_after_two_bounces_goes_to_district_backstop(dispatch: DispatchDb) -> None:
    dispatch.install(with_second_housing_agency())
    complaint_id = await dispatch.complaint()
    first = unit(await whistle_of(dispatch, complaint_id), "d1-zjw")
    async with dispatch.client("dept-zjw") as zjw, dispatch.client("district-d1") as district:
        returned = await zjw.post(
            f"/v1/assignments/{first['id']}/return", json={"reason": "not_our_duty", "note": "属物业"}
        )
        assert returned.status_code == 200 and returned.json()["status"] == "returned"
        whistle = await whistle_of(dispatch, complaint_id)
        second = unit(whistle, "d1-zjw-2")
        assert (second["role"], second["status"]) == ("lead", "queued")

        again = await zjw.post(f"/v1/assignments/{second['id']}/return", json={"reason": "wrong_area"})
        assert again.status_code == 200
        whistle = await whistle_of(dispatch, complaint_id)
        backstop = unit(whistle, "d1-backstop")
        assert (backstop["role"], backstop["status"]) == ("backstop", "queued")

        refused = await district.post(f"/v1/assignments/{backstop['id']}/return", json={"reason": "other"})
        assert refused.status_code == 409 and "return" not in refused.json()["allowed_actions"]
        assert (await district.post(f"/v1/assignments/{backstop['id']}/sign-off")).status_code == 200
        done = await district.post(
            f"/v1/assignments/{backstop['id']}/report-back", json={"result": "resolved", "note": "已协调"}
        )
        assert done.status_code == 200

    events = await dispatch.events(complaint_id)
    assert [e.type for e in events] == [
        "whistle.issued",
        "assignment.returned",
        "assignment.rerouted",
        "assignment.queued",
        "assignment.returned",
        "assignment.rerouted",
        "assignment.queued",
        "assignment.signed_off",
        "assignment.reported_back",
        "assignment.closed",
        "whistle.completed",
    ]
    returns = [e.payload for e in events if e.type == "assignment.returned"]
    assert [(r["unit_code"], r["reason"], r["returns"]) for r in returns] == [
        ("d1-zjw", "not_our_duty", 1),
        ("d1-zjw-2", "wrong_area", 2),
    ]
    reroutes = [e.payload for e in events if e.type == "assignment.rerouted"]
    assert [(r["to"]["unit_code"], r["to_backstop"]) for r in reroutes] == [
        ("d1-zjw-2", False),
        ("d1-backstop", True),
    ]
    assert "bounce limit of 2" in reroutes[1]["reason"]
    closed = next(e.payload for e in events if e.type == "assignment.closed")
    assert (closed["unit_code"], closed["reason"]) == ("d1-cgw", "not_needed")
    completed = next(e.payload for e in events if e.type == "whistle.completed")
    assert completed["unit_code"] == "d1-backstop"
    whistle = await whistle_of(dispatch, complaint_id)
    assert whistle["status"] == "completed" and unit(whistle, "d1-cgw")["status"] == "not_needed"


async def test_a_street_unit_may_not_return_a_matter_on_its_duty_list(dispatch: DispatchDb) -> None:
    complaint_id = await dispatch.complaint(category="garbage_piling")
    order = unit(await whistle_of(dispatch, complaint_id), "s1-enforcement")
    async with dispatch.client("street-s1") as street:
        refused = await street.post(f"/v1/assignments/{order['id']}/return", json={"reason": "not_our_duty"})
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert "cm-01" in refused.json()["errors"][0]["message"]
    assert await dispatch.types(complaint_id) == ["whistle.issued"]


async def test_a_returned_co_department_without_a_replacement_leaves_the_lead_working(
    dispatch: DispatchDb,
) -> None:
    complaint_id = await dispatch.complaint()
    co = unit(await whistle_of(dispatch, complaint_id), "d1-cgw")
    async with dispatch.client("dept-cgw") as cgw:
        assert (
            await cgw.post(f"/v1/assignments/{co['id']}/return", json={"reason": "not_our_duty"})
        ).status_code == 200
    whistle = await whistle_of(dispatch, complaint_id)
    assert [(a["unit_code"], a["status"]) for a in whistle["assignments"]] == [
        ("d1-zjw", "queued"),
        ("d1-cgw", "returned"),
    ]
    assert await dispatch.types(complaint_id) == ["whistle.issued", "assignment.returned"]


async def test_a_co_departments_report_back_does_not_complete_the_whistle(dispatch: DispatchDb) -> None:
    complaint_id = await dispatch.complaint()
    co = unit(await whistle_of(dispatch, complaint_id), "d1-cgw")
    async with dispatch.client("dept-cgw") as cgw:
        await cgw.post(f"/v1/assignments/{co['id']}/sign-off")
        report = await cgw.post(f"/v1/assignments/{co['id']}/report-back", json={"result": "explained"})
        assert report.status_code == 200
    assert (await whistle_of(dispatch, complaint_id))["status"] == "open"
