"""Deadlines and scores on the real stack, with a seconds-scale policy: a complaint nobody signs off
breaches, dispatch escalates it up the ladder to the district command centre, the unit then
answers, the hotline's follow-up is recorded, the period closes and the unit's scorecard explains
its score case by case.

Closing the current period is final, so this runs on a stack of its own (its own database and
broker), not the session's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.sla.periods import period_of
from shared.events import utcnow
from tests.builders import create_complaint
from tests.e2e.conftest import Stack, isolated_stack
from tests.e2e.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

FAST = {"sign_off": "2s", "contact": "30s", "report_in": "30s", "resolve": "60s", "warn_at": 0.5}
LADDER = {
    "bounce_limit": 2,
    "escalation": [
        {"when": "warning", "action": "remind"},
        {"when": "breached", "stage": "sign_off", "action": "remind"},
        {"when": "breached", "stage": "sign_off", "after": "2s", "action": "district"},
        {"when": "breached", "stage": "resolve", "action": "backstop_joins"},
    ],
}


@pytest.fixture(scope="module")
async def own_stack(infra) -> AsyncIterator[Stack]:  # type: ignore[no-untyped-def]
    async with isolated_stack(infra, "scores") as stack:
        yield stack


async def test_a_breach_escalates_and_the_closed_period_explains_the_score(own_stack: Stack) -> None:
    stack = own_stack
    period = str(period_of(utcnow()))
    async with (
        stack.client("registry", as_client="admin") as registry,
        stack.client("intake", as_client="hotline") as hotline,
        stack.client("dispatch", as_client="dept-zjw") as zjw,
        stack.client("dispatch", as_client="district-d1") as district,
        stack.client("sla", as_client="admin") as sla_admin,
        stack.client("sla", as_client="dept-zjw") as zjw_sla,
        stack.client("sla", as_client="street-s1") as street_sla,
    ):
        assert (await registry.put("/v1/policies/sla/urgent", json=FAST)).status_code == 200
        assert (await registry.put("/v1/policies/dispatch", json=LADDER)).status_code == 200

        async def policies_in_force() -> bool:  # every service follows the registry's changes
            return (await registry.get("/v1/snapshot")).json()["city"]["policies"]["sla"]["urgent"][
                "sign_off"
            ] == "2s"

        await eventually(policies_in_force)
        filed = await hotline.post("/v1/complaints", json=create_complaint(urgency="urgent"))
        assert filed.status_code == 201, filed.text
        complaint_id = filed.json()["id"]

        async def escalated() -> dict[str, Any] | None:
            whistles = (await zjw.get("/v1/whistles", params={"complaint_id": complaint_id})).json()
            if not whistles:
                return None
            whistle = whistles[0]
            fired = {(e["stage"], e["action"]) for e in whistle["escalations"] if e["fired_at"]}
            return whistle if {("sign_off", "remind"), ("sign_off", "district")} <= fired else None

        whistle = await eventually(escalated, seconds=60)
        page = (await district.get("/v1/districts/d1/escalations")).json()
        assert any(item["whistle"]["id"] == whistle["id"] for item in page["items"]), page
        clocks = (await zjw_sla.get("/v1/clocks", params={"complaint_id": complaint_id})).json()
        sign_off = next(c for c in clocks if c["stage"] == "sign_off" and c["unit_code"] == "d1-zjw")
        assert sign_off["status"] == "running" and sign_off["warned_at"] and sign_off["breached_at"]

        lead = next(a for a in whistle["assignments"] if a["department_code"] == "zjw")
        url = f"/v1/assignments/{lead['id']}"
        assert (await zjw.post(f"{url}/sign-off", json={})).status_code == 200
        back = await zjw.post(f"{url}/report-back", json={"result": "resolved", "note": "已拆除"})
        assert back.status_code == 200, back.text

        async def resolved() -> bool:
            return (await hotline.get(f"/v1/complaints/{complaint_id}")).json()["status"] == "resolved"

        await eventually(resolved)
        feedback = await hotline.post(
            f"/v1/complaints/{complaint_id}/feedback", json={"resolved": True, "satisfaction": "satisfied"}
        )
        assert feedback.status_code == 200, feedback.text
        evaluated = await street_sla.post(
            "/v1/evaluations", json={"unit_code": "d1-zjw", "period": period, "score": 80}
        )
        assert evaluated.status_code in (200, 201), evaluated.text

        async def counted() -> dict[str, Any] | None:
            card = (await zjw_sla.get("/v1/scorecards/d1-zjw", params={"period": period})).json()
            mine = {c["measure"] for c in card["counted"] if c["complaint_id"] == complaint_id}
            return card if {"response", "resolution", "satisfaction"} <= mine else None

        card = await eventually(counted, seconds=30)
        closed = await sla_admin.post(f"/v1/periods/{period}/close")
        assert closed.status_code == 200, closed.text
        again = await sla_admin.post(f"/v1/periods/{period}/close")
        assert again.status_code == 409
        late = await street_sla.post(
            "/v1/evaluations", json={"unit_code": "d1-zjw", "period": period, "score": 90}
        )
        assert late.status_code == 422, late.text
        final = (await zjw_sla.get("/v1/scorecards/d1-zjw", params={"period": period})).json()

    response = next(
        c for c in final["counted"] if c["complaint_id"] == complaint_id and c["measure"] == "response"
    )
    assert response["outcome"] == "breached", response  # signed off after its 2 s deadline
    outcomes = {c["measure"]: c["outcome"] for c in final["counted"] if c["complaint_id"] == complaint_id}
    assert outcomes.get("resolution") and outcomes.get("satisfaction"), outcomes
    assert final["published"] is not None and final["published"]["score"] == final["score"], final
    assert final["rates"]["response"]["rate"] == 0.0, final["rates"]["response"]
    points = sum(c["contributes"] or 0 for c in final["counted"]) + sum(
        e["contributes"] or 0 for e in final["evaluations"]
    )
    assert final["score"] is not None and points == pytest.approx(final["score"], abs=0.05), final
    assert card["n"] >= 1 and final["eligible"] is False  # one case is below min_sample: not ranked
