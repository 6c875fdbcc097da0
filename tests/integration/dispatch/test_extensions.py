"""Requests for more time on the real PostgreSQL: asked, decided by the street or the district,
announced as assignment.extended (which SLA applies to the running clocks)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.integration.dispatch.conftest import DispatchDb

pytestmark = pytest.mark.integration


async def signed_off_lead(
    dispatch: DispatchDb, client: Any, category: str = "illegal_construction"
) -> tuple[str, dict[str, Any]]:
    complaint_id = await dispatch.complaint(category=category)
    department = {"illegal_construction": "zjw", "water_supply": "sw"}[category]
    (order,) = [
        a
        for a in (await client.get(f"/v1/departments/{department}/queue")).json()["items"]
        if a["complaint_id"] == complaint_id
    ]
    assert (await client.post(f"/v1/assignments/{order['id']}/sign-off")).status_code == 200
    return complaint_id, order


async def test_a_street_approves_working_days_and_the_extension_is_announced(dispatch: DispatchDb) -> None:
    async with dispatch.client("dept-zjw") as zjw, dispatch.client("street-s1") as street:
        complaint_id, order = await signed_off_lead(dispatch, zjw)
        asked = await zjw.post(
            f"/v1/assignments/{order['id']}/extension", json={"working_days": 3, "reason": "需要住建鉴定"}
        )
        assert asked.status_code == 201, asked.text
        request = asked.json()
        assert (request["status"], request["working_days"], request["street_code"]) == ("pending", 3, "s1")
        twice = await zjw.post(
            f"/v1/assignments/{order['id']}/extension", json={"working_days": 1, "reason": "x"}
        )
        assert twice.status_code == 409 and twice.json()["extension_id"] == request["id"]

        listed = (await street.get("/v1/extensions")).json()["items"]
        assert [r["id"] for r in listed] == [request["id"]]
        approved = await street.post(f"/v1/extensions/{request['id']}/approve", json={"note": "同意"})
        assert approved.status_code == 200 and approved.json()["status"] == "approved"
        assert (await street.post(f"/v1/extensions/{request['id']}/reject")).status_code == 409

    extended = [e.payload for e in await dispatch.events(complaint_id) if e.type == "assignment.extended"]
    assert [(e["assignment_id"], e["working_days"], e["until"], e["approved_by"]) for e in extended] == [
        (order["id"], 3, None, "street-s1")
    ]


async def test_the_district_approves_until_and_a_later_request_must_move_past_it(
    dispatch: DispatchDb,
) -> None:
    async with dispatch.client("dept-sw") as sw, dispatch.client("district-d1") as district:
        complaint_id, order = await signed_off_lead(dispatch, sw, "water_supply")  # emergency: resolve 2h
        until = datetime.fromisoformat(order["queued_at"]) + timedelta(hours=5)
        asked = (
            await sw.post(
                f"/v1/assignments/{order['id']}/extension",
                json={"until": until.isoformat(), "reason": "抢修"},
            )
        ).json()
        assert (await district.post(f"/v1/extensions/{asked['id']}/approve")).status_code == 200
        earlier = await sw.post(
            f"/v1/assignments/{order['id']}/extension",
            json={"until": (until - timedelta(hours=1)).isoformat(), "reason": "again"},
        )
        assert earlier.status_code == 422 and earlier.json()["errors"][0]["field"] == "body.until"
    (extended,) = [e.payload for e in await dispatch.events(complaint_id) if e.type == "assignment.extended"]
    assert datetime.fromisoformat(extended["until"]) == until and extended["approved_by"] == "district-d1"


async def test_a_bad_request_reports_every_problem_at_once(dispatch: DispatchDb) -> None:
    async with dispatch.client("dept-zjw") as zjw:
        _, order = await signed_off_lead(dispatch, zjw)
        bad = await zjw.post(
            f"/v1/assignments/{order['id']}/extension",
            json={"working_days": 90, "until": "2020-01-01T00:00:00+00:00", "reason": " "},
        )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {
        "body",
        "body.working_days",
        "body.until",
        "body.reason",
    }


async def test_the_asking_department_may_not_approve_its_own_request_and_is_audited(
    dispatch: DispatchDb,
) -> None:
    async with dispatch.client("dept-zjw") as zjw, dispatch.client("street-s2") as other_street:
        _, order = await signed_off_lead(dispatch, zjw)
        asked = (
            await zjw.post(
                f"/v1/assignments/{order['id']}/extension", json={"working_days": 1, "reason": "x"}
            )
        ).json()
        assert (await zjw.post(f"/v1/extensions/{asked['id']}/approve")).status_code == 403
        assert (await other_street.post(f"/v1/extensions/{asked['id']}/approve")).status_code == 403
        assert (await zjw.get(f"/v1/extensions/{asked['id']}")).json()["status"] == "pending"
    assert await dispatch.scalar("SELECT count(*) FROM dispatch.audit_log WHERE outcome = 'refused'") == 2


async def test_a_request_lapses_when_the_whistle_completes(dispatch: DispatchDb) -> None:
    async with dispatch.client("dept-zjw") as zjw, dispatch.client("street-s1") as street:
        _, order = await signed_off_lead(dispatch, zjw)
        asked = (
            await zjw.post(
                f"/v1/assignments/{order['id']}/extension", json={"working_days": 1, "reason": "x"}
            )
        ).json()
        await zjw.post(f"/v1/assignments/{order['id']}/report-back", json={"result": "resolved"})
        assert (await street.post(f"/v1/extensions/{asked['id']}/approve")).status_code == 409
        assert (await street.get(f"/v1/extensions/{asked['id']}")).json()["status"] == "lapsed"
