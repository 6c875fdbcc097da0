"""The community level at the registry: the community duty list versioned like the street's, rules
handing a matter to a community committee only when it is on that list, sub-areas inside their
community, community clients, and the structure's health report on the tiny city."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest

from services.registry.seeding import seed_city
from shared.events import utcnow
from tests.community_city import community_city
from tests.integration.registry.conftest import Registry

pytestmark = pytest.mark.integration

CLIENTS = {"admin", "viewer", "community-s1-01"}
COURTYARD = [[116.401, 39.901], [116.403, 39.901], [116.403, 39.903], [116.401, 39.903], [116.401, 39.901]]


@pytest.fixture
async def city(registry: Registry, seeded: str) -> Registry:
    await seed_city(seeded, community_city(clients=CLIENTS))
    registry.app.state.snapshots.written()
    return registry


async def test_the_community_duty_list_is_served_and_each_change_is_a_new_version(city: Registry) -> None:
    listed = (await city.viewer.get("/v1/community-duty-list")).json()["items"]
    assert [(b["code"], [i["code"] for i in b["items"]]) for b in listed] == [
        ("self-governance", ["cw-01", "cw-02"])
    ]
    before = await city.version()
    created = await city.admin.post(
        "/v1/community-duty-list/items",
        json={"code": "cw-03", "block": "self-governance", "name": "文明养犬劝导", "categories": ["heating"]},
    )
    assert created.status_code == 201, created.text
    assert created.json()["snapshot_version"] == before + 1
    snapshot = (await city.viewer.get("/v1/snapshot")).json()
    items = snapshot["city"]["community_duty_list"][0]["items"]
    assert [i["code"] for i in items] == ["cw-01", "cw-02", "cw-03"]
    retired = await city.admin.delete("/v1/community-duty-list/items/cw-03")
    assert retired.status_code == 200 and retired.json()["item"]["retired_at"] is not None
    assert await city.version() == before + 2
    again = await city.admin.post(
        "/v1/community-duty-list/items",
        json={"code": "cw-03", "block": "self-governance", "name": "重复", "categories": []},
    )
    assert again.status_code == 422 and "never reused" in again.text
    history = (await city.viewer.get("/v1/community-duty-list", params={"include_retired": "true"})).json()
    assert [i["code"] for i in history["items"][0]["items"]] == ["cw-01", "cw-02", "cw-03"]


async def test_taking_a_matter_off_the_list_while_a_rule_hands_it_to_committees_is_refused(
    city: Registry,
) -> None:
    before = await city.version()
    refused = await city.admin.patch("/v1/community-duty-list/items/cw-01", json={"categories": []})
    assert refused.status_code == 422
    assert any("社区工作准入清单" in e["message"] for e in refused.json()["errors"])
    assert await city.version() == before
    assert (await city.viewer.get("/v1/community-duty-list/items/cw-01")).json()["categories"] == [
        "neighbor_dispute"
    ]


async def test_a_rule_handing_a_committee_a_matter_off_the_community_list_is_refused_naming_the_list(
    city: Registry,
) -> None:
    before = await city.version()
    refused = await city.admin.post(
        "/v1/rules", json={"category": "heating", "street": "s1", "community_committee": True}
    )
    assert refused.status_code == 422
    (error,) = refused.json()["errors"]
    assert error["field"] == "community_committee" and "社区工作准入清单" in error["message"]
    both = await city.admin.post(
        "/v1/rules",
        json={"category": "neighbor_dispute", "street": "s1", "community_committee": True, "lead": "housing"},
    )
    assert both.status_code == 422 and "exactly one" in both.text
    assert await city.version() == before
    rules = (await city.viewer.get("/v1/rules", params={"category": "neighbor_dispute"})).json()["items"]
    assert [(r["category"], r["community_committee"]) for r in rules] == [("neighbor_dispute", True)]


async def test_sub_areas_must_lie_inside_their_community(city: Registry) -> None:
    before = await city.version()
    outside = [[116.5, 39.9], [116.51, 39.9], [116.51, 39.91], [116.5, 39.91], [116.5, 39.9]]
    refused = await city.admin.patch(
        "/v1/communities/s1-02",
        json={
            "residents": 2_100,
            "sub_areas": [
                {"code": "s1-02-b1", "name": "二社区2号院", "kind": "building_unit", "polygon": outside},
                {"code": "s1-01-g1", "name": "重号居民小组"},
            ],
        },
    )
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["sub_areas[0].polygon", "sub_areas[1].code"]
    assert await city.version() == before
    detail = (await city.viewer.get("/v1/communities/s1-02")).json()
    assert (detail["residents"], detail["sub_areas"]) == (2_000, [])
    inside = [[116.411, 39.901], [116.413, 39.901], [116.413, 39.903], [116.411, 39.903], [116.411, 39.901]]
    accepted = await city.admin.patch(
        "/v1/communities/s1-02",
        json={
            "sub_areas": [
                {"code": "s1-02-b1", "name": "二社区2号院", "kind": "building_unit", "polygon": inside}
            ]
        },
    )
    assert accepted.status_code == 200, accepted.text
    assert [a["code"] for a in accepted.json()["item"]["sub_areas"]] == ["s1-02-b1"]


async def test_a_community_clients_token_names_its_community(city: Registry) -> None:
    response = await city.anonymous.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "community-s1-01",
            "client_secret": "demo-community-s1-01-secret",
        },
    )
    assert response.status_code == 200, response.text
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert (claims["kind"], claims["community"]) == ("community", "s1-01")
    assert "whistle:blow" in claims["scope"].split() and "registry:write" not in claims["scope"].split()


async def test_the_health_report_of_the_tiny_city_by_the_standards_in_force(city: Registry) -> None:
    report = (await city.viewer.get("/v1/structure/health")).json()
    assert (report["streets"], report["communities"]) == (2, 4)
    assert [(f["code"], f["measure"], f["flag"]) for f in report["findings"]] == [
        ("s1-02", "social_workers", "under")
    ]
    (finding,) = report["findings"]
    assert finding["band"]["min"] == 9 and "at least 9 social workers" in finding["standard"]

    before = utcnow()
    put = await city.admin.put(
        "/v1/policies/structure", json={"core_districts": ["d1"], "social_workers_min": 3}
    )
    assert put.status_code == 200, put.text
    assert put.json()["item"]["kind"] == "structure"
    now = (await city.viewer.get("/v1/structure/health")).json()
    found = {(f["code"], f["measure"], f["flag"]) for f in now["findings"]}
    assert {("s1", "residents", "under"), ("s2", "residents", "under")} <= found  # d1 is a core district now
    (workers,) = [f for f in now["findings"] if f["code"] == "s1-02"]
    assert workers["band"] == {"min": 5, "max": 6}  # 700 households: one per 110–150, at least 3 now
    assert ("s2-02", "social_workers", "over") in found  # nine for 500 households: above one per 110
    then = await city.viewer.get(
        "/v1/structure/health", params={"at": (before - timedelta(seconds=1)).isoformat()}
    )
    assert [(f["code"], f["measure"]) for f in then.json()["findings"]] == [("s1-02", "social_workers")]
    bad = await city.admin.put("/v1/policies/structure", json={"core_districts": ["d1"], "oops": 1})
    assert bad.status_code == 422
