"""A department's day on the real stack: a worker claims a complaint's order, signs off, reports
in and returns it; it is re-routed to the district backstop, which reports back; the hotline's
follow-up closes the complaint — with the events on the topics in order. And a street blows its
own whistle."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from shared.events import COMPLAINTS, WHISTLES, Envelope
from tests.builders import create_complaint, read_topics
from tests.e2e.polling import eventually

pytestmark = pytest.mark.e2e


async def claim_order_of(
    department: httpx.AsyncClient, code: str, complaint_id: str, worker: str
) -> dict[str, Any]:
    """Claim from the department's queue until this complaint's order comes; release what else came."""

    async def claimed() -> dict[str, Any] | None:
        page = (
            await department.post(
                f"/v1/departments/{code}/claims", json={"worker": worker, "max": 50, "wait_seconds": 5}
            )
        ).json()
        mine = None
        for item in page["items"]:
            if item["complaint_id"] == complaint_id:
                mine = item
            else:
                await department.post(f"/v1/assignments/{item['id']}/release", json={"worker": worker})
        return mine

    return await eventually(claimed)  # type: ignore[no-any-return]


async def test_a_complaint_is_claimed_worked_returned_rerouted_answered_and_followed_up(stack, infra) -> None:  # type: ignore[no-untyped-def]
    async with (
        stack.client("intake", as_client="hotline") as hotline,
        stack.client("dispatch", as_client="dept-zjw") as zjw,
        stack.client("dispatch", as_client="district-d1") as district,
        stack.client("dispatch", as_client="viewer") as viewer,
    ):
        filed = await hotline.post("/v1/complaints", json=create_complaint())
        assert filed.status_code == 201, filed.text
        complaint_id = filed.json()["id"]

        order = await claim_order_of(zjw, "zjw", complaint_id, worker="zjw-w1")
        assert order["lease"]["worker"] == "zjw-w1"
        url = f"/v1/assignments/{order['id']}"
        signed = await zjw.post(
            f"{url}/sign-off", json={"worker": "zjw-w1"}, headers={"Idempotency-Key": "k1"}
        )
        retried = await zjw.post(
            f"{url}/sign-off", json={"worker": "zjw-w1"}, headers={"Idempotency-Key": "k1"}
        )
        assert signed.status_code == retried.status_code == 200 and signed.text == retried.text
        assert (await zjw.post(f"{url}/sign-off", json={"worker": "zjw-w2"})).status_code == 409
        reported = await zjw.post(f"{url}/report-in", json={"kind": "contacted", "worker": "zjw-w1"})
        assert reported.status_code == 200 and reported.json()["status"] == "reported_in"
        returned = await zjw.post(
            f"{url}/return", json={"reason": "not_our_duty", "note": "属物业管理", "worker": "zjw-w1"}
        )
        assert returned.status_code == 200 and returned.json()["status"] == "returned"

        (whistle,) = (await viewer.get("/v1/whistles", params={"complaint_id": complaint_id})).json()
        backstop = next(a for a in whistle["assignments"] if a["unit_code"] == "d1-backstop")
        assert backstop["role"] == "backstop"
        b = f"/v1/assignments/{backstop['id']}"
        assert (await district.post(f"{b}/sign-off")).status_code == 200
        assert (await district.post(f"{b}/report-in", json={"kind": "on_site"})).status_code == 200
        answered = await district.post(
            f"{b}/report-back", json={"result": "resolved", "note": "已协调物业拆除"}
        )
        assert answered.status_code == 200

        async def resolved() -> bool:
            return (await hotline.get(f"/v1/complaints/{complaint_id}")).json()["status"] == "resolved"

        await eventually(resolved)
        followed = await hotline.post(
            f"/v1/complaints/{complaint_id}/feedback", json={"resolved": True, "satisfaction": "satisfied"}
        )
        assert followed.status_code == 200 and followed.json()["status"] == "closed"

    whistle_events = await _events_of(
        infra.bootstrap_servers, WHISTLES, complaint_id, until="whistle.completed"
    )
    assert whistle_events == [
        ("whistle.issued", None),
        ("assignment.signed_off", "d1-zjw"),
        ("assignment.reported_in", "d1-zjw"),
        ("assignment.returned", "d1-zjw"),
        ("assignment.rerouted", "d1-zjw"),
        ("assignment.queued", "d1-backstop"),
        ("assignment.signed_off", "d1-backstop"),
        ("assignment.reported_in", "d1-backstop"),
        ("assignment.reported_back", "d1-backstop"),
        ("assignment.closed", "d1-cgw"),
        ("whistle.completed", "d1-backstop"),
    ]
    complaint_events = await _events_of(
        infra.bootstrap_servers, COMPLAINTS, complaint_id, until="complaint.closed"
    )
    assert [t for t, _ in complaint_events] == [
        "complaint.received",
        "complaint.feedback_recorded",
        "complaint.closed",
    ]


async def _events_of(
    bootstrap: str, topic: str, complaint_id: str, *, until: str
) -> list[tuple[str, str | None]]:
    """The complaint's events on a topic in order (type and unit), once the last expected is there."""

    async def read() -> list[tuple[str, str | None]] | None:
        records = await read_topics(bootstrap, topic, seconds=5, quiet_polls=1)
        mine = [Envelope.from_bytes(r.value) for r in records if r.key == complaint_id.encode()]
        found = [(e.type, e.payload.get("unit_code") or e.payload.get("from_unit_code")) for e in mine]
        return found if any(t == until for t, _ in found) else None

    return await eventually(read)  # type: ignore[no-any-return]


async def test_a_street_blows_its_own_whistle_and_the_summoned_department_reports_in(stack) -> None:  # type: ignore[no-untyped-def]
    async with (
        stack.client("dispatch", as_client="street-s2") as street,
        stack.client("dispatch", as_client="dept-sw") as sw,
    ):
        blown = await street.post(
            "/v1/streets/s2/whistles",
            json={
                "category": "garbage_piling",
                "description": "河道边垃圾堆放，涉及河道管理",
                "location": {"community_code": "s2-01"},
                "departments": ["sw"],
                "reason": "河道管理范围内，街道无执法权",
            },
        )
        assert blown.status_code == 201, blown.text
        whistle = blown.json()
        assert whistle["kind"] == "street_whistle" and whistle["visit_required"]
        order = await claim_order_of(sw, "sw", whistle["complaint_id"], worker="sw-w1")
        url = f"/v1/assignments/{order['id']}"
        assert (await sw.post(f"{url}/sign-off", json={"worker": "sw-w1"})).status_code == 200
        assert (
            await sw.post(f"{url}/report-in", json={"kind": "on_site", "worker": "sw-w1"})
        ).status_code == 200
        own_work = await street.post(
            "/v1/streets/s2/whistles",
            json={
                "category": "garbage_piling",
                "description": "楼道堆物",
                "reason": "清理",
                "departments": [],
            },
        )
        assert own_work.status_code == 422
        mine = (await street.get("/v1/streets/s2/whistles", params={"kind": "street_whistle"})).json()[
            "items"
        ]
        assert whistle["id"] in [w["id"] for w in mine]
