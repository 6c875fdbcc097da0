"""One complaint through all four services, followed over HTTP as the hotline and a department see it."""

from __future__ import annotations

import asyncio
from typing import Any

import jwt
import pytest

from shared.events import COMPLAINTS, ComplaintReopened, envelope_for, utcnow
from shared.kafka import make_producer
from tests.builders import create_complaint
from tests.e2e.polling import eventually

pytestmark = pytest.mark.e2e


async def test_complaint_flows_to_department_queue_and_back_to_resolved(stack) -> None:  # type: ignore[no-untyped-def]
    async with (
        stack.client("intake", as_client="hotline") as intake,
        stack.client("dispatch", as_client="dept-zjw") as dispatch,
        stack.client("sla", as_client="viewer") as sla,
    ):
        body = create_complaint()
        filed = await intake.post("/v1/complaints", json=body)
        assert filed.status_code == 201, filed.text
        complaint = filed.json()
        assert (complaint["street_code"], complaint["community_code"]) == ("s1", "s1-01")
        assert complaint["reporter"] == {"name": "张*", "phone": "138****8000"}
        assert complaint["description"] == "楼顶私搭乱建 🏗️"

        again = await intake.post("/v1/complaints", json=body)
        assert again.status_code == 200 and again.json()["id"] == complaint["id"]

        async def in_queue() -> dict[str, Any] | None:
            page = (await dispatch.get("/v1/departments/zjw/queue")).json()
            return next((a for a in page["items"] if a["complaint_id"] == complaint["id"]), None)

        assignment = await eventually(in_queue)
        whistles = (await dispatch.get("/v1/whistles", params={"complaint_id": complaint["id"]})).json()
        assert len(whistles) == 1  # the repeated POST made no second whistle
        assert [(a["department_code"], a["role"], a["status"]) for a in whistles[0]["assignments"]] == [
            ("zjw", "lead", "queued"),
            ("cgw", "co", "queued"),
        ]

        async def status_is(wanted: str) -> bool:
            return (await intake.get(f"/v1/complaints/{complaint['id']}")).json()["status"] == wanted

        await eventually(lambda: status_is("dispatched"))
        clocks = await eventually(lambda: _clocks(sla, complaint["id"], expect=5))
        assert sorted((c["stage"], c["status"]) for c in clocks) == [  # each unit's, and the whistle's
            ("contact", "running"),
            ("contact", "running"),
            ("resolve", "running"),
            ("sign_off", "running"),
            ("sign_off", "running"),
        ]

        signed = await dispatch.post(f"/v1/assignments/{assignment['id']}/sign-off")
        assert signed.status_code == 200 and signed.json()["status"] == "signed_off"
        assert (await dispatch.post(f"/v1/assignments/{assignment['id']}/sign-off")).status_code == 409
        await eventually(lambda: status_is("in_progress"))

        back = await dispatch.post(
            f"/v1/assignments/{assignment['id']}/report-back", json={"result": "resolved", "note": "已拆除"}
        )
        assert back.status_code == 200, back.text
        await eventually(lambda: status_is("resolved"))

        async def lead_clocks_stopped() -> list[dict[str, Any]] | None:
            clocks = await _clocks(sla, complaint["id"], expect=5)
            done = [c for c in clocks or [] if c["unit_code"] in ("", "d1-zjw")]
            return done if all(c["stopped_at"] for c in done) else None

        stopped = await eventually(lead_clocks_stopped)
        assert sorted((c["stage"], c["status"]) for c in stopped) == [
            ("contact", "met"),
            ("resolve", "met"),
            ("sign_off", "met"),
        ]


async def _clocks(sla, complaint_id: str, *, expect: int) -> list[dict[str, Any]] | None:  # type: ignore[no-untyped-def]
    clocks = (await sla.get("/v1/clocks", params={"complaint_id": complaint_id})).json()
    return clocks if len(clocks) >= expect else None


async def test_bad_complaints_are_refused_with_problem_details(stack) -> None:  # type: ignore[no-untyped-def]
    async with stack.client("intake", as_client="hotline") as intake:
        outside = await intake.post(
            "/v1/complaints", json=create_complaint(location={"lat": 10.0, "lon": 10.0})
        )
        assert outside.status_code == 422
        assert outside.headers["content-type"] == "application/problem+json"
        assert "outside" in outside.json()["detail"]

        unknown = await intake.post("/v1/complaints", json=create_complaint(category="nope"))
        assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "category"

        missing = await intake.post("/v1/complaints", json={"source": "hotline"})
        assert missing.status_code == 422
        assert {e["field"] for e in missing.json()["errors"]} >= {"body.source_ref", "body.category"}

        body = create_complaint()
        assert (await intake.post("/v1/complaints", json=body)).status_code == 201
        changed = await intake.post("/v1/complaints", json={**body, "description": "different"})
        assert changed.status_code == 409


async def test_every_service_is_healthy_ready_and_exposes_metrics(stack) -> None:  # type: ignore[no-untyped-def]
    for service in ("registry", "intake", "dispatch", "sla"):
        async with stack.client(service) as client:
            assert (await client.get("/healthz")).status_code == 200
            assert (await client.get("/readyz")).json()["status"] == "ready"
            metrics = (await client.get("/metrics")).text
            assert "whistle_http_requests_total" in metrics
            assert "whistle_outbox_backlog" in metrics


async def test_endpoints_require_a_token_with_the_right_scope_and_binding(stack) -> None:  # type: ignore[no-untyped-def]
    async with stack.client("dispatch") as anonymous:
        refused = await anonymous.get("/v1/departments/zjw/queue")
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert (
            await anonymous.get("/v1/departments/zjw/queue", headers={"Authorization": "Bearer not-a-token"})
        ).status_code == 401
    async with stack.client("dispatch", as_client="dept-cgw") as other_department:
        assert (await other_department.get("/v1/departments/zjw/queue")).status_code == 403
        assert (await other_department.get("/v1/departments/cgw/queue")).status_code == 200
    async with stack.client("dispatch", as_client="hotline") as hotline:
        assert (await hotline.get("/v1/departments/zjw/queue")).status_code == 403  # no queue:read
    async with stack.client("sla", as_client="hotline") as narrowed:
        narrowed.headers["Authorization"] = f"Bearer {stack.token('hotline', scope='complaints:write')}"
        assert (await narrowed.get("/v1/clocks", params={"complaint_id": "x"})).status_code == 403


async def test_department_cannot_act_on_another_departments_assignment(stack) -> None:  # type: ignore[no-untyped-def]
    async with (
        stack.client("intake", as_client="hotline") as intake,
        stack.client("dispatch", as_client="dept-sw") as water,
        stack.client("dispatch", as_client="dept-cgw") as city_management,
    ):
        filed = (await intake.post("/v1/complaints", json=create_complaint(category="water_supply"))).json()

        async def queued() -> dict[str, Any] | None:
            items = (await water.get("/v1/departments/sw/queue")).json()["items"]
            return next((a for a in items if a["complaint_id"] == filed["id"]), None)

        assignment = await eventually(queued)
        foreign = await city_management.post(f"/v1/assignments/{assignment['id']}/sign-off")
        assert foreign.status_code == 403
        assert (await water.post(f"/v1/assignments/{assignment['id']}/sign-off")).status_code == 200


async def test_key_rotation_keeps_old_tokens_valid_and_new_ones_verify_everywhere(stack) -> None:  # type: ignore[no-untyped-def]
    before = stack.token("viewer")
    async with stack.client("registry", as_client="admin") as admin:
        rotated = await admin.post("/v1/keys/rotate")
        assert rotated.status_code == 201
    after = stack.token("viewer")
    assert (
        jwt.get_unverified_header(after)["kid"]
        == rotated.json()["kid"]
        != jwt.get_unverified_header(before)["kid"]
    )
    async with stack.client("sla") as sla:
        for token in (before, after):
            response = await sla.get(
                "/v1/clocks", params={"complaint_id": "x"}, headers={"Authorization": f"Bearer {token}"}
            )
            assert response.status_code == 200, response.text


async def test_api_keys_are_issued_by_the_admin_only(stack) -> None:  # type: ignore[no-untyped-def]
    key = stack.api_key("hotline")
    assert jwt.decode(key, options={"verify_signature": False})["typ"] == "api_key"
    async with stack.client("registry", as_client="hotline") as hotline:
        assert (await hotline.post("/v1/clients/hotline/api-keys")).status_code == 403


async def test_reopened_complaint_is_dispatched_again_in_a_new_round(stack, infra) -> None:  # type: ignore[no-untyped-def]
    async with (
        stack.client("intake", as_client="hotline") as intake,
        stack.client("dispatch", as_client="viewer") as dispatch,
    ):
        filed = (await intake.post("/v1/complaints", json=create_complaint(category="water_supply"))).json()

        async def rounds(n: int) -> list[dict[str, Any]] | None:
            whistles = (await dispatch.get("/v1/whistles", params={"complaint_id": filed["id"]})).json()
            return whistles if len(whistles) == n else None

        await eventually(lambda: rounds(1))
        reopened = envelope_for(
            ComplaintReopened(
                complaint_id=filed["id"],
                category="water_supply",
                urgency="emergency",
                district_code="d1",
                street_code=filed["street_code"],
                community_code=filed["community_code"],
                reason="unsatisfied",
                at=utcnow(),
            ),
            producer="intake",
            correlation_id=filed["id"],
        )
        producer = make_producer(infra.bootstrap_servers, client_id="test")
        await producer.start()
        try:
            for _ in range(2):  # delivered twice: still one new round
                await producer.send_and_wait(COMPLAINTS, reopened.to_bytes(), key=filed["id"].encode())
        finally:
            await producer.stop()
        whistles = await eventually(lambda: rounds(2))
        assert [(w["round"], w["status"]) for w in whistles] == [(1, "superseded"), (2, "open")]
        assert [a["status"] for a in whistles[0]["assignments"]] == ["withdrawn"]
        assert [(a["unit_code"], a["status"]) for a in whistles[1]["assignments"]] == [("d1-sw", "queued")]
        await asyncio.sleep(1)
        assert await rounds(2)
