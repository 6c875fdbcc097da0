"""Admin writes against the real database: checked before they count, versioned, announced.

The tiny city (tests/data/tiny_city.yaml): district d1 with streets s1 (enforcement team and city
office) and s2 (enforcement team); departments cgw (city_management), zjw (housing), sw (water),
one agency each serving s1 and s2; garbage_piling is on the duty list.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry import models as m
from shared.events import REGISTRY_CHANGES, Envelope, utcnow
from tests.builders import square
from tests.integration.registry.conftest import Registry

pytestmark = pytest.mark.integration


def create_community(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": "s1-03",
        "street": "s1",
        "name": "新社区",
        "households": 300,
        "polygon": square(116.40, 39.89),
    }
    return body | overrides


def fields(response: Any) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


async def assert_refused_and_nothing_written(
    registry: Registry, response: Any, before: int
) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await registry.version() == before
    return dict(response.json())


# --- the duty-list guard and serving agencies --------------------------------------------------------


async def test_rule_pushing_an_off_list_category_down_to_the_street_is_refused(registry: Registry) -> None:
    before = await registry.version()
    response = await registry.admin.post(
        "/v1/rules", json={"category": "heating", "street_unit_kind": "enforcement_team"}
    )
    body = await assert_refused_and_nothing_written(registry, response, before)
    assert body["errors"] == [
        {
            "field": "street_unit_kind",
            "message": "category 'heating' is not on the street duty list (街道职责清单), so it cannot be "
            "sent to a street unit (enforcement_team); route it to a lead department",
        }
    ]
    rules = (await registry.viewer.get("/v1/rules", params={"category": "heating"})).json()
    assert rules["items"] == []


async def test_department_rule_leaving_a_street_without_a_serving_agency_is_refused(
    registry: Registry,
) -> None:
    await registry.admin.post("/v1/departments", json={"code": "rl", "name": "热力", "kind": "heating"})
    await registry.admin.post(
        "/v1/agencies",
        json={"code": "d1-rl", "department": "rl", "district": "d1", "name": "东区热力", "serves": ["s1"]},
    )
    before = await registry.version()
    response = await registry.admin.post("/v1/rules", json={"category": "heating", "lead": "heating"})
    body = await assert_refused_and_nothing_written(registry, response, before)
    assert body["errors"] == [
        {"field": "lead", "message": "no agency of kind 'heating' serves street 's2' (二街道) for 'heating'"}
    ]
    narrowed = await registry.admin.post(
        "/v1/rules", json={"category": "heating", "street": "s1", "lead": "heating"}
    )
    assert narrowed.status_code == 201, narrowed.text
    assert narrowed.json()["snapshot_version"] == before + 1


async def test_agency_dropping_a_street_a_rule_needs_is_refused_naming_the_rule(registry: Registry) -> None:
    before = await registry.version()
    response = await registry.admin.patch("/v1/agencies/d1-sw", json={"serves": ["s1"]})
    body = await assert_refused_and_nothing_written(registry, response, before)
    water_rule = (await registry.viewer.get("/v1/rules", params={"category": "water_supply"})).json()[
        "items"
    ][0]
    assert body["errors"] == [
        {
            "field": f"rules[#{water_rule['id']}].lead",
            "message": "no agency of kind 'water' serves street 's2' (二街道) for 'water_supply'",
        }
    ]
    agency = (await registry.viewer.get("/v1/agencies/d1-sw")).json()
    assert agency["serves"] == ["s1", "s2"]


async def test_retiring_the_only_agency_of_a_kind_a_rule_leads_with_is_refused(registry: Registry) -> None:
    before = await registry.version()
    response = await registry.admin.delete("/v1/agencies/d1-sw")
    body = await assert_refused_and_nothing_written(registry, response, before)
    assert len(body["errors"]) == 2  # s1 and s2 left without a water agency
    assert (await registry.viewer.get("/v1/agencies/d1-sw")).json()["retired_at"] is None


async def test_taking_a_category_off_the_duty_list_is_refused_while_a_street_unit_rule_uses_it(
    registry: Registry,
) -> None:
    before = await registry.version()
    response = await registry.admin.patch("/v1/duty-list/items/cm-01", json={"categories": []})
    body = await assert_refused_and_nothing_written(registry, response, before)
    assert "'garbage_piling' is not on the street duty list" in body["errors"][0]["message"]


async def test_retiring_a_street_unit_a_rule_needs_is_refused(registry: Registry) -> None:
    before = await registry.version()
    response = await registry.admin.delete("/v1/street-units/s2-enforcement")
    body = await assert_refused_and_nothing_written(registry, response, before)
    assert body["errors"][0]["message"] == "street 's2' has no enforcement_team unit for 'garbage_piling'"


# --- geography ---------------------------------------------------------------------------------------


async def test_self_intersecting_polygon_is_refused(registry: Registry) -> None:
    before = await registry.version()
    bowtie = [[116.40, 39.88], [116.41, 39.89], [116.41, 39.88], [116.40, 39.89], [116.40, 39.88]]
    response = await registry.admin.post("/v1/communities", json=create_community(polygon=bowtie))
    body = await assert_refused_and_nothing_written(registry, response, before)
    assert fields(response) == ["polygon"]
    assert "Self-intersection" in body["errors"][0]["message"]


async def test_polygon_overlapping_another_community_is_refused(registry: Registry) -> None:
    before = await registry.version()
    response = await registry.admin.post(
        "/v1/communities", json=create_community(polygon=square(116.405, 39.905))
    )
    body = await assert_refused_and_nothing_written(registry, response, before)
    assert sorted(e["message"] for e in body["errors"]) == [
        f"polygon overlaps community {code!r} (communities[{code}])"
        for code in ("s1-01", "s1-02", "s2-01", "s2-02")
    ]
    assert fields(response) == ["polygon"] * 4


async def test_new_community_touching_its_neighbours_is_resolvable_at_once(registry: Registry) -> None:
    created = await registry.admin.post("/v1/communities", json=create_community())
    assert created.status_code == 201, created.text
    assert created.json()["item"]["bbox"] == [116.40, 39.89, 116.41, 39.90]
    found = await registry.viewer.post("/v1/resolve", json={"lat": 39.895, "lon": 116.405})
    assert found.json()["community"] == {"code": "s1-03", "name": "新社区"}
    assert found.json()["snapshot_version"] == created.json()["snapshot_version"]


async def test_moving_a_community_polygon_checks_it_against_the_others_but_itself(registry: Registry) -> None:
    moved = await registry.admin.patch(
        "/v1/communities/s1-01",
        json={
            "polygon": [[116.40, 39.90], [116.41, 39.90], [116.41, 39.905], [116.40, 39.905], [116.40, 39.90]]
        },
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["item"]["bbox"] == [116.40, 39.90, 116.41, 39.905]
    gone = await registry.viewer.post("/v1/resolve", json={"lat": 39.907, "lon": 116.405})
    assert gone.status_code == 422 and "outside the city" in gone.json()["detail"]


async def test_street_with_communities_in_service_cannot_be_retired(registry: Registry) -> None:
    before = await registry.version()
    response = await registry.admin.delete("/v1/streets/s2")
    body = await assert_refused_and_nothing_written(registry, response, before)
    assert [e["message"] for e in body["errors"]] == [
        "street 's2' still has community 's2-01' in service: retire or move it first",
        "street 's2' still has community 's2-02' in service: retire or move it first",
    ]


async def test_new_street_with_units_and_serving_agencies_takes_part_in_routing(registry: Registry) -> None:
    units = [
        {"code": "s3-enforcement", "name": "三街道综合执法队", "kind": "enforcement_team"},
        {"code": "s3-city-office", "name": "三街道城市管理办公室", "kind": "office"},
    ]
    without_agencies = await registry.admin.post(
        "/v1/streets", json={"code": "s3", "district": "d1", "name": "三街道", "units": units}
    )
    assert without_agencies.status_code == 422
    assert {e["field"] for e in without_agencies.json()["errors"]} == {
        f"rules[#{r['id']}].{f}"
        for r in (await registry.viewer.get("/v1/rules")).json()["items"]
        if r["lead"]
        for f in ["lead", *(f"co[{i}]" for i in range(len(r["co"])))]
    }
    created = await registry.admin.post(
        "/v1/streets",
        json={
            "code": "s3",
            "district": "d1",
            "name": "三街道",
            "units": units,
            "served_by": ["d1-cgw", "d1-zjw", "d1-sw"],
        },
    )
    assert created.status_code == 201, created.text
    await registry.admin.post("/v1/communities", json=create_community(code="s3-01", street="s3"))
    found = (await registry.viewer.post("/v1/resolve", json={"lat": 39.895, "lon": 116.405})).json()
    assert found["street"] == {"code": "s3", "name": "三街道", "kind": "street"}
    routed = (
        await registry.viewer.post("/v1/route", json={"category": "garbage_piling", "street_code": "s3"})
    ).json()
    assert [t["unit_code"] for t in routed["targets"]] == ["s3-enforcement"]


async def test_retired_street_keeps_its_row_and_leaves_its_agencies(registry: Registry) -> None:
    for code in ("s2-01", "s2-02"):
        assert (await registry.admin.delete(f"/v1/communities/{code}")).status_code == 200
    retired = await registry.admin.delete("/v1/streets/s2")
    assert retired.status_code == 200, retired.text
    assert retired.json()["item"]["retired_at"] is not None
    assert (await registry.viewer.get("/v1/streets")).json()["items"][-1]["code"] == "s1"
    kept = (await registry.viewer.get("/v1/streets", params={"include_retired": "true"})).json()["items"]
    assert [s["code"] for s in kept] == ["s1", "s2"]
    assert (await registry.viewer.get("/v1/agencies/d1-sw")).json()["serves"] == ["s1"]
    units = (
        await registry.viewer.get("/v1/street-units", params={"street": "s2", "include_retired": "true"})
    ).json()
    assert all(u["retired_at"] for u in units["items"])
    again = await registry.admin.delete("/v1/streets/s2")
    assert again.status_code == 409


# --- departments, categories, policies ---------------------------------------------------------------


async def test_department_parent_cycle_is_refused(registry: Registry) -> None:
    assert (await registry.admin.patch("/v1/departments/zjw", json={"parent": "cgw"})).status_code == 200
    before = await registry.version()
    response = await registry.admin.patch("/v1/departments/cgw", json={"parent": "zjw"})
    body = await assert_refused_and_nothing_written(registry, response, before)
    assert body["errors"] == [
        {"field": "parent", "message": "department parents form a cycle: cgw → zjw → cgw"}
    ]


async def test_category_with_bad_attributes_gets_one_error_per_problem(registry: Registry) -> None:
    before = await registry.version()
    response = await registry.admin.post(
        "/v1/categories",
        json={
            "code": "noise",
            "name": "噪声",
            "attributes": [
                {"code": "when", "datatype": "singlevaluelist"},
                {"code": "when", "datatype": "string", "values": [{"key": "a", "name": "甲"}]},
            ],
        },
    )
    await assert_refused_and_nothing_written(registry, response, before)
    assert fields(response) == ["attributes[1].code", "attributes[0].values", "attributes[1].values"]


async def test_category_named_by_a_rule_cannot_be_retired(registry: Registry) -> None:
    before = await registry.version()
    response = await registry.admin.delete("/v1/categories/water_supply")
    body = await assert_refused_and_nothing_written(registry, response, before)
    assert "unknown category 'water_supply'" in body["errors"][0]["message"]


async def test_scoring_weights_that_do_not_sum_to_one_are_refused(registry: Registry) -> None:
    before = await registry.version()
    weights = {
        "response": 0.5,
        "resolution": 0.3,
        "satisfaction": 0.3,
        "on_time": 0.1,
        "street_evaluation": 0.1,
    }
    response = await registry.admin.put("/v1/policies/scoring", json=weights)
    body = await assert_refused_and_nothing_written(registry, response, before)
    assert body["errors"] == [{"field": "body", "message": "scoring weights sum to 1.3, not 1"}]


async def test_new_sla_version_supersedes_the_one_in_force_and_keeps_history(registry: Registry) -> None:
    put = await registry.admin.put(
        "/v1/policies/sla/normal",
        json={"sign_off": "15m", "contact": "12h", "report_in": "12h", "resolve": "5d"},
    )
    assert put.status_code == 200, put.text
    new = put.json()["item"]
    assert new["supersedes"] is not None and new["in_force"]
    history = (
        await registry.viewer.get("/v1/policies", params={"urgency": "normal", "history": "true"})
    ).json()
    assert [(p["id"], p["effective_to"] is None) for p in history["items"]] == [
        (new["supersedes"], False),
        (new["id"], True),
    ]
    snapshot = (await registry.viewer.get("/v1/snapshot")).json()
    assert snapshot["city"]["policies"]["sla"]["normal"]["resolve"] == "5d"


async def test_seconds_scale_sla_with_a_warning_point_is_a_new_version(registry: Registry) -> None:
    put = await registry.admin.put(
        "/v1/policies/sla/emergency",
        json={"sign_off": "20s", "contact": "40s", "report_in": "40s", "resolve": "90s", "warn_at": 0.5},
    )
    assert put.status_code == 200, put.text
    snapshot = (await registry.viewer.get("/v1/snapshot")).json()
    assert snapshot["city"]["policies"]["sla"]["emergency"] == {
        "sign_off": "20s",
        "contact": "40s",
        "report_in": "40s",
        "resolve": "90s",
        "warn_at": 0.5,
    }


async def test_dispatch_policy_versions_the_bounce_limit_and_the_escalation_ladder(
    registry: Registry,
) -> None:
    ladder = [
        {"when": "breached", "stage": "sign_off", "action": "remind"},
        {"when": "breached", "stage": "sign_off", "after": "2m", "action": "district"},
    ]
    put = await registry.admin.put("/v1/policies/dispatch", json={"bounce_limit": 3, "escalation": ladder})
    assert put.status_code == 200, put.text
    assert put.json()["item"]["kind"] == "dispatch" and put.json()["item"]["supersedes"] is not None
    policies = (await registry.viewer.get("/v1/snapshot")).json()["city"]["policies"]
    assert policies["dispatch"]["bounce_limit"] == 3
    assert [s["action"] for s in policies["dispatch"]["escalation"]] == ["remind", "district"]
    bad = await registry.admin.put("/v1/policies/dispatch", json={"bounce_limit": 0})
    assert bad.status_code == 422


async def test_scheduled_policy_version_can_be_withdrawn(registry: Registry) -> None:
    later = (utcnow() + timedelta(days=30)).isoformat()
    put = await registry.admin.put(
        "/v1/policies/sla/urgent",
        json={
            "sign_off": "10m",
            "contact": "1h",
            "report_in": "1h",
            "resolve": "12h",
            "effective_from": later,
        },
    )
    scheduled = put.json()["item"]
    assert not scheduled["in_force"]
    withdrawn = await registry.admin.delete(f"/v1/policies/{scheduled['id']}")
    assert withdrawn.status_code == 200, withdrawn.text
    previous = (await registry.viewer.get(f"/v1/policies/{scheduled['supersedes']}")).json()
    assert previous["effective_to"] is None and previous["in_force"]
    in_force = await registry.admin.delete(f"/v1/policies/{scheduled['supersedes']}")
    assert in_force.status_code == 409


# --- versioned rules ---------------------------------------------------------------------------------


async def test_changing_a_rule_starts_a_new_version_and_past_complaints_keep_the_old(
    registry: Registry,
) -> None:
    rule = (await registry.viewer.get("/v1/rules", params={"category": "water_supply"})).json()["items"][0]
    changed = await registry.admin.patch(f"/v1/rules/{rule['id']}", json={"lead": "housing", "co": ["water"]})
    assert changed.status_code == 200, changed.text
    new = changed.json()["item"]
    assert (new["supersedes"], new["lead"], new["co"]) == (rule["id"], "housing", ["water"])
    old = (await registry.viewer.get(f"/v1/rules/{rule['id']}")).json()
    assert old["effective_to"] == new["effective_from"] and not old["in_force"]

    earlier = (utcnow() - timedelta(days=1)).isoformat()
    then = (
        await registry.viewer.post(
            "/v1/route", json={"category": "water_supply", "street_code": "s1", "at": earlier}
        )
    ).json()
    now = (
        await registry.viewer.post("/v1/route", json={"category": "water_supply", "street_code": "s1"})
    ).json()
    assert [t["unit_code"] for t in then["targets"]] == ["d1-sw"]
    assert [t["unit_code"] for t in now["targets"]] == ["d1-zjw", "d1-sw"]
    at_then = (
        await registry.viewer.get("/v1/rules", params={"category": "water_supply", "at": earlier})
    ).json()
    assert [r["id"] for r in at_then["items"]] == [rule["id"]]
    snapshot_then = await registry.viewer.get("/v1/snapshot", params={"at": earlier})
    assert [r["lead"] for r in snapshot_then.json()["city"]["rules"] if r["category"] == "water_supply"] == [
        "water"
    ]


async def test_overlapping_rule_for_the_same_scope_is_refused(registry: Registry) -> None:
    before = await registry.version()
    response = await registry.admin.post("/v1/rules", json={"category": "water_supply", "lead": "housing"})
    body = await assert_refused_and_nothing_written(registry, response, before)
    assert "their effective ranges overlap" in body["errors"][0]["message"]


async def test_rule_may_not_start_in_the_past(registry: Registry) -> None:
    before = await registry.version()
    last_week = (utcnow() - timedelta(days=7)).isoformat()
    response = await registry.admin.post(
        "/v1/rules",
        json={"category": "heating", "street": "s1", "lead": "housing", "effective_from": last_week},
    )
    await assert_refused_and_nothing_written(registry, response, before)
    assert fields(response) == ["effective_from"]


async def test_retired_rule_leaves_the_matter_to_the_backstop_and_stays_in_history(
    registry: Registry,
) -> None:
    rule = (await registry.viewer.get("/v1/rules", params={"category": "illegal_construction"})).json()[
        "items"
    ][0]
    assert (await registry.admin.delete(f"/v1/rules/{rule['id']}")).status_code == 200
    routed = (
        await registry.viewer.post(
            "/v1/route", json={"category": "illegal_construction", "street_code": "s1"}
        )
    ).json()
    assert [t["role"] for t in routed["targets"]] == ["backstop"] and routed["rules"] == []
    history = (
        await registry.viewer.get("/v1/rules", params={"category": "illegal_construction", "history": "true"})
    ).json()
    assert [r["id"] for r in history["items"]] == [rule["id"]]


# --- every change is versioned and announced ---------------------------------------------------------


async def test_each_change_bumps_the_version_and_reaches_the_broker(registry: Registry, infra) -> None:  # type: ignore[no-untyped-def]
    consumer = AIOKafkaConsumer(
        REGISTRY_CHANGES, bootstrap_servers=infra.bootstrap_servers, group_id=None, auto_offset_reset="latest"
    )
    await consumer.start()
    try:
        await consumer.getmany(timeout_ms=500)
        before = await registry.version()
        response = await registry.admin.put(
            "/v1/calendar/overrides/2026-07-20", json={"workday": False, "name": "暴雨停工"}
        )
        assert response.json()["snapshot_version"] == before + 1
        seen: list[Envelope] = []
        for _ in range(40):
            batch = await consumer.getmany(timeout_ms=250)
            seen += [Envelope.from_bytes(r.value) for records in batch.values() for r in records]
            if any(e.payload.get("snapshot_version") == before + 1 for e in seen):
                break
        event = next(e for e in seen if e.payload.get("snapshot_version") == before + 1)
        assert (event.type, event.payload["changed"]) == ("registry.changed", ["calendar"])
    finally:
        await consumer.stop()
    days = (
        await registry.viewer.get("/v1/calendar", params={"from": "2026-07-20", "to": "2026-07-20"})
    ).json()
    assert days == [{"date": "2026-07-20", "workday": False, "source": "override", "name": "暴雨停工"}]
    snapshot = (await registry.viewer.get("/v1/snapshot")).json()
    assert snapshot["city"]["calendar"] == [{"date": "2026-07-20", "workday": False, "name": "暴雨停工"}]


async def test_concurrent_writes_get_consecutive_versions(registry: Registry) -> None:
    before = await registry.version()
    responses = await asyncio.gather(
        *(registry.admin.patch("/v1/districts/d1", json={"name": f"东区{i}"}) for i in range(5))
    )
    assert sorted(r.json()["snapshot_version"] for r in responses) == list(range(before + 1, before + 6))


async def test_versions_record_what_changed(
    registry: Registry, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await registry.admin.patch("/v1/street-units/s1-city-office", json={"name": "一街道城管办"})
    async with sessions() as session:
        latest = (
            await session.execute(
                select(m.SnapshotVersion).order_by(m.SnapshotVersion.version.desc()).limit(1)
            )
        ).scalar_one()
        pending = (await session.execute(text("SELECT count(*) FROM registry.outbox"))).scalar_one()
    assert (latest.reason, latest.changed) == ("street unit s1-city-office updated", ["street-units"])
    assert pending >= 1


async def test_a_taken_code_is_reported_with_every_other_problem_at_once(registry: Registry) -> None:
    before = await registry.version()
    response = await registry.admin.post(
        "/v1/communities", json=create_community(code="s1-01", street="s9", polygon=square(116.40, 39.90))
    )
    body = await assert_refused_and_nothing_written(registry, response, before)
    assert [(e["field"], e["message"]) for e in body["errors"]][:2] == [
        ("code", "community 's1-01' already exists"),
        ("street", "unknown street 's9'"),
    ]
    assert fields(response)[2:] == ["polygon"]  # overlaps s1-01 itself
