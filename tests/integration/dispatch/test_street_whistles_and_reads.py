"""A street's own whistle (吹哨), the street's and district's views, and who reads a complaint's
whistles (client kind × own/other)."""

from __future__ import annotations

import pytest

from tests.integration.dispatch.conftest import DispatchDb

pytestmark = pytest.mark.integration

WHISTLE = {
    "category": "garbage_piling",
    "description": "河道边建筑垃圾堆放，需城管与水务协同",
    "location": {"community_code": "s1-02", "detail": "河道东岸"},
    "departments": ["cgw", "sw"],
    "reason": "涉及河道管理范围",
}


async def test_a_street_blows_its_own_whistle_summoning_the_departments_it_names(
    dispatch: DispatchDb,
) -> None:
    async with dispatch.client("street-s1") as street:
        blown = await street.post("/v1/streets/s1/whistles", json=WHISTLE, headers={"Idempotency-Key": "w-1"})
        again = await street.post("/v1/streets/s1/whistles", json=WHISTLE, headers={"Idempotency-Key": "w-1"})
        listed = (await street.get("/v1/streets/s1/whistles")).json()["items"]
    assert blown.status_code == 201, blown.text
    whistle = blown.json()
    assert again.status_code == 201 and again.json()["id"] == whistle["id"]
    assert (whistle["kind"], whistle["visit_required"], whistle["blown_by"]) == (
        "street_whistle",
        True,
        "street-s1",
    )
    assert [(a["unit_code"], a["role"]) for a in whistle["assignments"]] == [
        ("d1-cgw", "lead"),
        ("d1-sw", "co"),
    ]
    assert [w["id"] for w in listed] == [whistle["id"]]
    (issued,) = await dispatch.events(whistle["complaint_id"])
    assert issued.type == "whistle.issued" and issued.correlation_id == whistle["complaint_id"]
    assert issued.payload["kind"] == "street_whistle" and issued.payload["visit_required"] is True
    assert "description" not in issued.payload and "河道" not in issued.to_bytes().decode()


async def test_a_street_whistle_for_its_own_duty_list_work_is_refused_and_audited(
    dispatch: DispatchDb,
) -> None:
    async with dispatch.client("street-s1") as street:
        refused = await street.post("/v1/streets/s1/whistles", json=WHISTLE | {"departments": []})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "body.departments"
    assert (
        await dispatch.scalar(
            "SELECT count(*) FROM dispatch.refused_pushdowns"
            " WHERE kind = 'street_whistle' AND client_id = 'street-s1'"
        )
        == 1
    )
    assert await dispatch.scalar("SELECT count(*) FROM dispatch.whistles") == 0


async def test_a_street_whistles_for_its_own_street_only_and_in_it(dispatch: DispatchDb) -> None:
    async with dispatch.client("street-s2") as other, dispatch.client("street-s1") as street:
        assert (await other.post("/v1/streets/s1/whistles", json=WHISTLE)).status_code == 403
        misplaced = await street.post(
            "/v1/streets/s1/whistles", json=WHISTLE | {"location": {"community_code": "s2-01"}}
        )
        assert misplaced.status_code == 422
        assert misplaced.json()["errors"] == [
            {"field": "body.location.community_code", "message": "not in street s1", "type": "location"}
        ]
        unknown = await street.post(
            "/v1/streets/s1/whistles", json=WHISTLE | {"departments": ["nope", "cgw", "gone"]}
        )
        assert [e["field"] for e in unknown.json()["errors"]] == ["body.departments.0", "body.departments.2"]
    async with dispatch.client("dept-cgw") as department:
        assert (
            await department.post("/v1/streets/s1/whistles", json=WHISTLE)
        ).status_code == 403  # no whistle:blow


async def test_who_reads_a_complaints_whistles(dispatch: DispatchDb) -> None:
    complaint_id = await dispatch.complaint()  # illegal construction at s1: zjw leads, cgw helps
    async with dispatch.client("dept-zjw") as zjw:
        (whistle,) = (await zjw.get("/v1/whistles", params={"complaint_id": complaint_id})).json()
        lead = whistle["assignments"][0]
        await zjw.post(f"/v1/assignments/{lead['id']}/sign-off")
        await zjw.post(
            f"/v1/assignments/{lead['id']}/report-in", json={"kind": "on_site", "note": "住建内部备注"}
        )
    allowed = {"dept-zjw", "dept-cgw", "street-s1", "district-d1", "admin", "viewer"}
    for client_id in sorted(allowed | {"dept-sw", "street-s2", "hotline"}):
        async with dispatch.client(client_id) as client:
            response = await client.get("/v1/whistles", params={"complaint_id": complaint_id})
        assert response.status_code == (200 if client_id in allowed else 403), client_id
        if response.status_code == 200:
            note = response.json()[0]["assignments"][0]["report_in_note"]
            assert note == (None if client_id == "dept-cgw" else "住建内部备注"), client_id


async def test_the_street_and_district_views_are_their_own(dispatch: DispatchDb) -> None:
    complaint_id = await dispatch.complaint(street_code="s2")
    async with dispatch.client("street-s2") as s2, dispatch.client("street-s1") as s1:
        assert [w["complaint_id"] for w in (await s2.get("/v1/streets/s2/whistles")).json()["items"]] == [
            complaint_id
        ]
        assert (await s1.get("/v1/streets/s2/whistles")).status_code == 403
    async with dispatch.client("district-d1") as district, dispatch.client("dept-zjw") as zjw:
        page = (await district.get("/v1/districts/d1/whistles")).json()
        assert [w["complaint_id"] for w in page["items"]] == [complaint_id]
        assert (await district.get("/v1/streets/s2/whistles")).status_code == 200
        assert (await zjw.get("/v1/districts/d1/whistles")).status_code == 403
