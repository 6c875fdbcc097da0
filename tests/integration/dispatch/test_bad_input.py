"""Bad input to dispatch: unknown ids, wrong states, every field problem at once, oversized bodies."""

from __future__ import annotations

import pytest

from tests.integration.dispatch.conftest import DispatchDb

pytestmark = pytest.mark.integration


async def test_unknown_ids_are_404_problems(dispatch: DispatchDb) -> None:
    async with dispatch.client("dept-zjw") as zjw, dispatch.client("district-d1") as district:
        missing = await zjw.post("/v1/assignments/nope/sign-off")
        assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
        assert (await zjw.post("/v1/assignments/nope/return", json={"reason": "other"})).status_code == 404
        assert (await district.post("/v1/extensions/nope/approve")).status_code == 404
        assert (await district.get("/v1/streets/nowhere/whistles")).status_code == 404


async def test_a_wrong_state_is_409_with_the_status_and_the_actions_allowed(dispatch: DispatchDb) -> None:
    await dispatch.complaint()
    async with dispatch.client("dept-zjw") as zjw:
        (order,) = (await zjw.get("/v1/departments/zjw/queue")).json()["items"]
        early = await zjw.post(f"/v1/assignments/{order['id']}/report-back", json={"result": "resolved"})
    assert early.status_code == 409
    assert early.json()["status_now"] == "queued"
    assert early.json()["allowed_actions"] == ["sign-off", "return", "release"]


async def test_every_field_problem_of_a_claim_is_reported_at_once(dispatch: DispatchDb) -> None:
    async with dispatch.client("dept-zjw") as zjw:
        bad = await zjw.post(
            "/v1/departments/zjw/claims",
            json={"worker": "", "max": 0, "wait_seconds": 99, "lease_seconds": 1},
        )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {
        "body.worker",
        "body.max",
        "body.wait_seconds",
        "body.lease_seconds",
    }


async def test_a_body_over_the_limit_is_refused_before_it_is_read(dispatch: DispatchDb) -> None:
    async with dispatch.client("dept-zjw") as zjw:
        huge = await zjw.post(
            "/v1/assignments/x/report-back",
            content=b'{"result": "resolved", "note": "' + b"x" * (2 << 20) + b'"}',
            headers={"content-type": "application/json"},
        )
    assert huge.status_code == 413
