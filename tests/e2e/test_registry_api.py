"""The registry as the other services and operators meet it: over HTTP, with real tokens."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.e2e.polling import eventually

pytestmark = pytest.mark.e2e


async def test_resolve_and_route_answer_where_and_who(stack) -> None:  # type: ignore[no-untyped-def]
    async with stack.client("registry", as_client="hotline") as registry:
        place = await registry.post("/v1/resolve", json={"lat": 39.905, "lon": 116.405})
        assert place.status_code == 200, place.text
        assert (place.json()["community"]["code"], place.json()["street"]["code"]) == ("s1-01", "s1")
        outside = await registry.post("/v1/resolve", json={"lat": 10.0, "lon": 10.0})
        assert outside.status_code == 422 and "outside the city" in outside.json()["detail"]
        routed = await registry.post(
            "/v1/route", json={"category": "illegal_construction", "street_code": "s1"}
        )
        assert [(t["unit_code"], t["role"]) for t in routed.json()["targets"]] == [
            ("d1-zjw", "lead"),
            ("d1-cgw", "co"),
        ]
        assert routed.json()["rules"][0]["applied"]


async def test_snapshot_is_cached_by_etag(stack) -> None:  # type: ignore[no-untyped-def]
    async with stack.client("registry", as_client="viewer") as registry:
        first = await registry.get("/v1/snapshot")
        assert first.status_code == 200
        again = await registry.get("/v1/snapshot", headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304


async def test_a_new_category_and_rule_reach_intake_and_dispatch(stack) -> None:  # type: ignore[no-untyped-def]
    code = f"lamp_{uuid.uuid4().hex[:6]}"
    async with (
        stack.client("registry", as_client="admin") as admin,
        stack.client("intake", as_client="hotline") as intake,
        stack.client("dispatch", as_client="viewer") as dispatch,
    ):
        made = await admin.post(
            "/v1/categories",
            json={"code": code, "name": "路灯杆", "name_en": "Lamp post", "urgency": "urgent"},
        )
        assert made.status_code == 201, made.text
        refused = await admin.post(
            "/v1/rules", json={"category": code, "street_unit_kind": "enforcement_team"}
        )
        assert refused.status_code == 422
        assert f"category {code!r} is not on the street duty list" in refused.json()["errors"][0]["message"]
        rule = await admin.post("/v1/rules", json={"category": code, "lead": "water"})
        assert rule.status_code == 201, rule.text

        async def filed() -> dict[str, Any] | None:
            response = await intake.post(
                "/v1/complaints",
                json={
                    "source": "hotline",
                    "source_ref": f"12345-{uuid.uuid4().hex[:12]}",
                    "category": code,
                    "description": "路灯杆倾斜",
                    "location": {"lat": 39.915, "lon": 116.415},
                    "reporter": {"name": "李四", "phone": "13900139000"},
                },
            )
            return response.json() if response.status_code == 201 else None

        complaint = await eventually(filed)  # once intake has the new snapshot

        async def whistle() -> list[dict[str, Any]] | None:
            found = (await dispatch.get("/v1/whistles", params={"complaint_id": complaint["id"]})).json()
            return found or None

        whistles = await eventually(whistle)
        assert [(a["unit_code"], a["role"]) for a in whistles[0]["assignments"]] == [("d1-sw", "lead")]
        retired = await admin.delete(f"/v1/rules/{rule.json()['item']['id']}")
        assert retired.status_code == 200


async def test_only_admins_write_and_list_clients(stack) -> None:  # type: ignore[no-untyped-def]
    async with stack.client("registry", as_client="viewer") as viewer:
        denied = await viewer.patch("/v1/districts/d1", json={"name": "东区"})
        assert denied.status_code == 403
        assert (await viewer.get("/v1/clients")).status_code == 403
    async with stack.client("registry", as_client="admin") as admin:
        clients = (await admin.get("/v1/clients", params={"kind": "street"})).json()["items"]
        assert [c["client_id"] for c in clients] == ["street-s1", "street-s2"]
        assert all("secret" not in key for c in clients for key in c)
