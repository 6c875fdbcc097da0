"""The community level on the real stack: a community blows its own whistle (社区吹哨), its street
signs off and whistles a department in turn, the department reports back, and the chain community
→ street → department shows on all three whistles' views."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.registry.seeding import seed_city
from tests.builders import create_complaint
from tests.community_city import community_city
from tests.e2e.polling import eventually

pytestmark = pytest.mark.e2e

WHISTLE = {
    "category": "illegal_construction",
    "description": "楼院内私搭乱建，社区劝阻无效",
    "location": {"community_code": "s1-01", "detail": "1号院"},
    "reason": "需街道协调执法和住建",
}


async def blown_once_the_city_shows(community: httpx.AsyncClient) -> dict[str, Any]:
    """Blow the community's whistle once dispatch has the city with the community level."""

    async def blown() -> dict[str, Any] | None:
        response = await community.post(
            "/v1/communities/s1-01/whistles", json=WHISTLE, headers={"Idempotency-Key": "community-e2e-1"}
        )
        if response.status_code in (404, 503):  # the new city is not at dispatch yet
            return None
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    return await eventually(blown)  # type: ignore[no-any-return]


async def test_a_community_whistles_the_street_whistles_a_department_and_the_chain_shows_on_all(
    stack, infra
) -> None:  # type: ignore[no-untyped-def]
    # The tiny city with the community level (the same codes; communities' committees and clients added).
    await seed_city(infra.database_url, community_city())
    async with (
        stack.client("dispatch", as_client="community-s1-01") as community,
        stack.client("dispatch", as_client="street-s1") as street,
        stack.client("dispatch", as_client="dept-zjw") as zjw,
    ):
        whistle = await blown_once_the_city_shows(community)
        assert (whistle["kind"], whistle["community_code"]) == ("community_whistle", "s1-01")
        (summoned,) = whistle["assignments"]
        assert (summoned["unit_code"], summoned["role"]) == ("s1-city-office", "street")

        assert (await street.post(f"/v1/assignments/{summoned['id']}/sign-off")).status_code == 200
        answer = await street.post(
            "/v1/streets/s1/whistles",
            json={
                "category": "illegal_construction",
                "description": "社区吹哨：违建认定和拆除",
                "departments": ["zjw"],
                "reason": "违建认定需住建部门",
                "parent_whistle_id": whistle["id"],
            },
        )
        assert answer.status_code == 201, answer.text
        linked = answer.json()
        (order,) = linked["assignments"]
        assert (order["unit_code"], order["role"]) == ("d1-zjw", "lead")

        url = f"/v1/assignments/{order['id']}"
        assert (await zjw.post(f"{url}/sign-off")).status_code == 200
        assert (await zjw.post(f"{url}/report-in", json={"kind": "on_site"})).status_code == 200
        answered = await zjw.post(f"{url}/report-back", json={"result": "resolved", "note": "已认定并拆除"})
        assert answered.status_code == 200, answered.text

        community_page = (await community.get("/v1/communities/s1-01/whistles")).json()["items"]
        mine = next(w for w in community_page if w["id"] == whistle["id"])  # and complaints' in s1-01
        streets = (await street.get("/v1/streets/s1/whistles", params={"kind": "street_whistle"})).json()
        (departments,) = (
            await zjw.get("/v1/whistles", params={"complaint_id": linked["complaint_id"]})
        ).json()
        street_view = next(w for w in streets["items"] if w["id"] == linked["id"])
        for view in (mine, street_view, departments):
            assert [(k["kind"], k["units"]) for k in view["chain"]] == [
                ("community_whistle", ["s1-city-office"]),
                ("street_whistle", ["d1-zjw"]),
            ]
        assert departments["status"] == "completed" and departments["parent_whistle_id"] == whistle["id"]
        assert mine["chain"][1]["status"] == "completed"
        assert (await zjw.get("/v1/communities/s1-01/whistles")).status_code == 403


async def test_a_complaint_names_a_sub_area_and_the_hotline_lists_by_it(stack, infra) -> None:  # type: ignore[no-untyped-def]
    await seed_city(infra.database_url, community_city())  # (again, when run alone)
    async with stack.client("intake", as_client="hotline") as hotline:
        body = create_complaint(location={"community_code": "s1-01", "sub_area_code": "s1-01-g1"})

        async def filed() -> dict[str, Any] | None:
            answer = await hotline.post("/v1/complaints", json=body)
            return answer.json() if answer.status_code == 201 else None  # once intake has the new city

        complaint = await eventually(filed)
        assert complaint["sub_area_code"] == "s1-01-g1"
        listed = (await hotline.get("/v1/complaints", params={"sub_area": "s1-01-g1"})).json()
        assert complaint["id"] in [c["id"] for c in listed["items"]]
        assert all(c["sub_area_code"] == "s1-01-g1" for c in listed["items"])
        elsewhere = create_complaint(location={"community_code": "s1-02", "sub_area_code": "s1-01-g1"})
        refused = await hotline.post("/v1/complaints", json=elsewhere)
        assert refused.status_code == 422 and "sub_area_code" in refused.text, refused.text
