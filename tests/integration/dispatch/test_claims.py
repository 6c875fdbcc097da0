"""Claims with leases on the real PostgreSQL: concurrent workers, long polling, lease expiry,
release, the holder's rights, idempotent retries, and the queue's paging."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import pytest

from tests.integration.dispatch.conftest import DispatchDb

pytestmark = pytest.mark.integration


async def claim(client: Any, worker: str, **body: Any) -> dict[str, Any]:
    response = await client.post("/v1/departments/zjw/claims", json={"worker": worker, **body})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_concurrent_workers_never_get_the_same_assignment_and_take_the_oldest_first(
    dispatch: DispatchDb,
) -> None:
    complaints = [await dispatch.complaint() for _ in range(24)]
    handed: list[tuple[str, str]] = []

    async def work(worker: str) -> None:
        async with dispatch.client("dept-zjw") as client:
            while True:
                page = await claim(client, worker, max=3, lease_seconds=60)
                if not page["items"]:
                    return
                handed.extend((worker, a["id"]) for a in page["items"])
                assert all(a["lease"]["worker"] == worker for a in page["items"])

    await asyncio.gather(*(work(f"w{i}") for i in range(8)))
    counts = Counter(assignment for _, assignment in handed)
    assert len(counts) == 24 and set(counts.values()) == {1}
    async with dispatch.client("dept-zjw") as client:
        queue = (await client.get("/v1/departments/zjw/queue")).json()["items"]
    assert [a["complaint_id"] for a in queue] == complaints  # still open, oldest first


async def test_a_claim_waits_for_work_and_wakes_when_it_is_committed(dispatch: DispatchDb) -> None:
    async with dispatch.client("dept-zjw") as client:
        waiting = asyncio.create_task(claim(client, "w1", wait_seconds=10))
        await asyncio.sleep(0.5)
        assert not waiting.done()
        queued_at = time.monotonic()
        complaint_id = await dispatch.complaint()
        page = await asyncio.wait_for(waiting, 5)
    assert time.monotonic() - queued_at < 1.0
    assert [a["complaint_id"] for a in page["items"]] == [complaint_id]


async def test_an_empty_queue_answers_empty_after_the_wait(dispatch: DispatchDb) -> None:
    async with dispatch.client("dept-zjw") as client:
        started = time.monotonic()
        page = await claim(client, "w1", wait_seconds=1)
    assert page == {"items": [], "lease_expires_at": None}
    assert 0.9 < time.monotonic() - started < 3


async def test_an_expired_lease_is_offered_again_within_a_second_of_expiry(dispatch: DispatchDb) -> None:
    await dispatch.complaint()
    async with dispatch.client("dept-zjw") as a, dispatch.client("dept-zjw") as b:
        first = await claim(a, "wa", lease_seconds=5)
        assert len(first["items"]) == 1
        assert (await claim(b, "wb"))["items"] == []  # invisible while leased
        again = await claim(b, "wb", wait_seconds=15)
    expired_at = _parse(first["lease_expires_at"])
    assert [x["id"] for x in again["items"]] == [first["items"][0]["id"]]
    assert 0 <= time.time() - expired_at < 1.0


async def test_a_released_assignment_is_offered_again_at_once(dispatch: DispatchDb) -> None:
    await dispatch.complaint()
    async with dispatch.client("dept-zjw") as a, dispatch.client("dept-zjw") as b:
        (item,) = (await claim(a, "wa"))["items"]
        waiting = asyncio.create_task(claim(b, "wb", wait_seconds=10))
        await asyncio.sleep(0.3)
        released = await a.post(f"/v1/assignments/{item['id']}/release", json={"worker": "wa"})
        assert released.status_code == 200 and released.json()["lease"] is None
        page = await asyncio.wait_for(waiting, 3)
    assert [x["id"] for x in page["items"]] == [item["id"]]


async def test_an_action_on_another_workers_claim_is_refused_naming_the_holder(dispatch: DispatchDb) -> None:
    await dispatch.complaint()
    async with dispatch.client("dept-zjw") as client:
        (item,) = (await claim(client, "wa"))["items"]
        other = await client.post(f"/v1/assignments/{item['id']}/sign-off", json={"worker": "wb"})
        assert other.status_code == 409
        assert other.json()["holder"] == "wa" and "'wa'" in other.json()["detail"]
        anonymous = await client.post(f"/v1/assignments/{item['id']}/sign-off")
        assert anonymous.status_code == 409
        mine = await client.post(f"/v1/assignments/{item['id']}/sign-off", json={"worker": "wa"})
        assert mine.status_code == 200
    body = mine.json()
    assert body["status"] == "signed_off" and body["lease"]["worker"] == "wa"
    assert _parse(body["lease"]["expires_at"]) > _parse(item["lease"]["expires_at"])  # renewed


async def test_the_same_worker_retrying_with_its_idempotency_key_gets_the_same_answer(
    dispatch: DispatchDb,
) -> None:
    complaint_id = await dispatch.complaint()
    async with dispatch.client("dept-zjw") as client:
        (item,) = (await claim(client, "wa"))["items"]
        url = f"/v1/assignments/{item['id']}/sign-off"
        headers = {"Idempotency-Key": "sign-off-1"}
        answers = await asyncio.gather(
            *(client.post(url, json={"worker": "wa"}, headers=headers) for _ in range(5))
        )
        assert {r.status_code for r in answers} == {200}
        assert len({r.text for r in answers}) == 1
        assert (await client.post(url, json={"worker": "wa"})).status_code == 409  # no key: the state speaks
        reused = await client.post(url, json={"worker": "other"}, headers=headers)
        assert reused.status_code == 422
    assert (await dispatch.types(complaint_id)).count("assignment.signed_off") == 1


async def test_an_action_naming_a_worker_on_an_unheld_assignment_gives_it_the_claim(
    dispatch: DispatchDb,
) -> None:
    await dispatch.complaint()
    async with dispatch.client("dept-zjw") as client:
        (item,) = (await client.get("/v1/departments/zjw/queue")).json()["items"]
        signed = await client.post(f"/v1/assignments/{item['id']}/sign-off", json={"worker": "wz"})
        assert signed.json()["lease"]["worker"] == "wz"
        assert (await claim(client, "wy"))["items"] == []


async def test_a_claim_with_sign_off_signs_off_what_it_hands_out_in_one_step(dispatch: DispatchDb) -> None:
    complaints = [await dispatch.complaint() for _ in range(3)]
    async with dispatch.client("dept-zjw") as client:
        page = await claim(client, "w1", max=2, sign_off=True, lease_seconds=5)
        assert [a["complaint_id"] for a in page["items"]] == complaints[:2]
        assert {a["status"] for a in page["items"]} == {"signed_off"}
        assert all(a["lease"]["worker"] == "w1" for a in page["items"])
        first = page["items"][0]["id"]
        refused = await client.post(f"/v1/assignments/{first}/sign-off", json={"worker": "w1"})
        assert refused.status_code == 409  # signed off already: the claim did it
        untouched = await claim(client, "w2", max=5)  # without sign_off: the third stays queued
        assert [(a["complaint_id"], a["status"]) for a in untouched["items"]] == [(complaints[2], "queued")]
        # a lease running out offers a signed-off order again, as it is (no second sign-off)
        again = await claim(client, "w3", max=5, sign_off=True, wait_seconds=15)
    assert {a["id"] for a in again["items"]} == {a["id"] for a in page["items"]}
    assert {a["status"] for a in again["items"]} == {"signed_off"}
    for complaint_id in complaints[:2]:
        assert (await dispatch.types(complaint_id)).count("assignment.signed_off") == 1
    assert "assignment.signed_off" not in await dispatch.types(complaints[2])


async def test_the_queue_pages_over_the_order_it_sorts_by_without_skipping(dispatch: DispatchDb) -> None:
    for _ in range(7):
        await dispatch.complaint()
    async with dispatch.client("dept-zjw") as client:
        everything = (await client.get("/v1/departments/zjw/queue")).json()["items"]
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            page = (await client.get("/v1/departments/zjw/queue", params=params)).json()
            seen += [a["id"] for a in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        bad = await client.get("/v1/departments/zjw/queue", params={"cursor": "nonsense"})
    assert seen == [a["id"] for a in everything] and len(seen) == 7
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.cursor"


async def test_another_departments_token_is_refused_and_the_attempt_audited(dispatch: DispatchDb) -> None:
    await dispatch.complaint()
    async with dispatch.client("dept-zjw") as zjw, dispatch.client("dept-cgw") as cgw:
        (item,) = (await zjw.get("/v1/departments/zjw/queue")).json()["items"]
        assert (await cgw.post(f"/v1/assignments/{item['id']}/sign-off")).status_code == 403
        assert (await cgw.post("/v1/departments/zjw/claims", json={"worker": "x"})).status_code == 403
    async with dispatch.client("admin") as admin:
        audit = (await admin.get("/v1/audit", params={"outcome": "refused"})).json()["items"]
    assert [(e["client_id"], e["action"]) for e in audit] == [
        ("dept-cgw", "POST /v1/departments/{department_code}/claims"),
        ("dept-cgw", "POST /v1/assignments/{assignment_id}/sign-off"),
    ]


def _parse(moment: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(moment).timestamp()
