"""Scenarios 10, 11 and 13 of the fault suite, on the features they test: claims with leases under
two competing workers, read scoping with refusals audited, and SLA rebuilt from the topics. They run
on the suite's one stack (the package's fixture) with the other scenarios."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.reliability.harness import FaultStack, Hotline, complaint
from tests.reliability.results import RESULTS
from tests.reliability.test_scenarios import finish

pytestmark = pytest.mark.reliability

LEASE = 5


async def file(stack: FaultStack, hotline: Hotline, count: int) -> None:
    async with await stack.client("intake", "hotline") as intake:
        for i in range(count):
            body = complaint(f"{hotline.prefix}-{i}-{uuid.uuid4().hex[:6]}")
            answer = await intake.post("/v1/complaints", json=body)
            assert answer.status_code == 201, answer.text
            hotline.accepted[body["source_ref"]] = answer.json()["id"]
            hotline.answers[str(answer.status_code)] += 1


async def claim(client: httpx.AsyncClient, worker: str, *, wait: float = 0, most: int = 10) -> dict[str, Any]:
    answer = await client.post(
        "/v1/departments/zjw/claims",
        json={"worker": worker, "max": most, "wait_seconds": wait, "lease_seconds": LEASE},
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_10_two_workers_claim_one_queue_and_an_expired_lease_is_offered_again(
    fault_stack: FaultStack,
) -> None:
    stack = fault_stack
    dlq = await stack.dead_letters()
    hotline = Hotline(stack, "s10")
    await file(stack, hotline, 30)
    await finish(stack, "10 (queued before claiming)", hotline, dlq_before=dlq)
    RESULTS.pop()  # the row is the claims' own, below
    holders: dict[str, set[str]] = {}
    leases: dict[str, tuple[str, datetime]] = {}  # assignment → (worker, lease expiry) of its last claim
    doubles: list[str] = []
    async with (
        await stack.client("dispatch", "dept-zjw") as one,
        await stack.client("dispatch", "dept-zjw") as two,
    ):
        held_by_one: dict[str, datetime] = {}
        for round_ in range(20):  # both workers at once, until the queue is empty for both
            if round_ == 0:  # the first worker surely holds some: a claim of its own first
                first, second = await claim(one, "w1", most=5), {"items": []}
            else:
                first, second = await asyncio.gather(claim(one, "w1"), claim(two, "w2"))
            for worker, page in (("w1", first), ("w2", second)):
                if not page["items"]:
                    continue
                expiry = datetime.fromisoformat(page["lease_expires_at"])
                now = datetime.now(expiry.tzinfo)
                for item in page["items"]:
                    earlier = leases.get(item["id"])
                    if earlier is not None and earlier[0] != worker and now < earlier[1]:
                        doubles.append(item["id"])  # handed to a second worker while the first's lease ran
                    leases[item["id"]] = (worker, expiry)
                    holders.setdefault(item["id"], set()).add(worker)
                    if worker == "w1":
                        held_by_one[item["id"]] = expiry
                    else:
                        held_by_one.pop(item["id"], None)
            if not first["items"] and not second["items"]:
                break
        assert held_by_one, "the first worker got nothing to hold"
        # The first worker lets its leases run out; the second is offered them again.
        expires = max(held_by_one.values())
        reoffered_after: list[float] = []
        deadline = time.monotonic() + LEASE + 20
        waiting = set(held_by_one)
        while waiting and time.monotonic() < deadline:
            page = await claim(two, "w2", wait=2)
            now = datetime.now(expires.tzinfo)
            for item in page["items"]:
                if item["id"] in waiting:
                    waiting.discard(item["id"])
                    reoffered_after.append((now - held_by_one[item["id"]]).total_seconds())
        # The second worker works what it holds; the first, its lease gone, is refused naming it.
        taken = next(iter(held_by_one))
        refused = await one.post(f"/v1/assignments/{taken}/sign-off", json={"worker": "w1"})
        signed = await two.post(f"/v1/assignments/{taken}/sign-off", json={"worker": "w2"})
    assert doubles == [], f"handed to two workers at once: {doubles[:5]}"
    assert waiting == set(), f"never offered again after the lease expired: {sorted(waiting)[:5]}"
    assert min(reoffered_after) >= -0.05, f"offered again before its lease ran out: {min(reoffered_after)}"
    assert refused.status_code == 409 and "w2" in refused.text, refused.text
    assert signed.status_code == 200, signed.text
    tally = await finish(
        stack,
        "10 two workers claim, a lease expires",
        hotline,
        dlq_before=dlq,
        note=(
            f"{len(holders)} claimed, {len(doubles)} twice; {len(held_by_one)} re-offered "
            f"{min(reoffered_after):.2f}-{max(reoffered_after):.2f} s after expiry"
        ),
    )
    assert tally.queued == 30


async def test_11_other_departments_and_streets_are_refused_and_audited(fault_stack: FaultStack) -> None:
    stack = fault_stack
    assert stack.db is not None
    dlq = await stack.dead_letters()
    hotline = Hotline(stack, "s11")
    await file(stack, hotline, 1)
    complaint_id = next(iter(hotline.accepted.values()))
    async with await stack.client("dispatch", "dept-zjw") as zjw:

        async def queued() -> bool:
            page = (await zjw.get("/v1/departments/zjw/queue", params={"limit": 500})).json()
            return any(a["complaint_id"] == complaint_id for a in page["items"])

        deadline = time.monotonic() + 60
        while not await queued():
            assert time.monotonic() < deadline, "never queued"
            await asyncio.sleep(0.5)
        whistles = (await zjw.get("/v1/whistles", params={"complaint_id": complaint_id})).json()
    order = next(a["id"] for a in whistles[0]["assignments"] if a["department_code"] == "zjw")
    since = await stack.db.fetchval("SELECT now()")
    attempts = [
        ("dispatch", "dept-cgw", "POST", f"/v1/assignments/{order}/sign-off", {}),
        ("dispatch", "dept-sw", "GET", f"/v1/whistles?complaint_id={complaint_id}", None),
        ("dispatch", "street-s2", "GET", "/v1/streets/s1/whistles", None),
        ("sla", "dept-sw", "GET", f"/v1/clocks?complaint_id={complaint_id}", None),
        ("sla", "street-s2", "GET", "/v1/scorecards/d1-zjw", None),
    ]
    for service, client_id, method, path, body in attempts:
        async with await stack.client(service, client_id) as client:
            answer = await client.request(method, path, json=body)
        assert answer.status_code == 403, (client_id, path, answer.text)
    rows = []
    for schema in ("dispatch", "sla"):
        rows += await stack.db.fetch(
            f"SELECT client_id, action, outcome FROM {schema}.audit_log"
            " WHERE at >= $1 AND outcome = 'refused'",
            since,
        )
    audited = {(r["client_id"], r["action"].split(" ")[0]) for r in rows}
    assert {(c, m) for _, c, m, _, _ in attempts} <= audited, rows
    await finish(
        stack,
        "11 other department/street: 403, audited",
        hotline,
        dlq_before=dlq,
        note=f"{len(attempts)} refused, {len(rows)} audit rows",
    )


SLA_TABLES = {
    "whistles": "whistle_id",
    "clocks": "clock_id",
    "timers": "clock_id, kind",
    "measures": "key",
}


async def sla_state(stack: FaultStack) -> dict[str, list[tuple[Any, ...]]]:
    assert stack.db is not None
    return {
        table: [tuple(r) for r in await stack.db.fetch(f"SELECT * FROM sla.{table} ORDER BY {order}")]
        for table, order in SLA_TABLES.items()
    }


async def test_13_sla_rebuilt_from_offset_zero_comes_to_the_same_state(fault_stack: FaultStack) -> None:
    stack = fault_stack
    dlq = await stack.dead_letters()
    hotline = Hotline(stack, "s13")
    await file(stack, hotline, 10)
    await finish(stack, "13 (filed before the rebuild)", hotline, dlq_before=dlq)
    RESULTS.pop()
    await asyncio.sleep(3)  # SLA has taken in what dispatch published
    async with await stack.client("sla", "viewer") as sla:
        scores_before = (await sla.get("/v1/scores", params={"level": "agency"})).json()
    await stack.stop_process("sla")
    before = await sla_state(stack)
    rebuilt = await stack.run_cli("sla", "sla", "rebuild", "--yes")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    after = await sla_state(stack)
    await stack.start_process("sla")
    await stack.wait_ready(["sla"], within=90)
    async with await stack.client("sla", "viewer") as sla:
        scores_after = (await sla.get("/v1/scores", params={"level": "agency"})).json()
    different = [t for t in SLA_TABLES if before[t] != after[t]]
    assert before["clocks"], "nothing to rebuild"
    assert different == [], {t: (len(before[t]), len(after[t])) for t in different}
    assert scores_after == scores_before
    tally = await finish(
        stack,
        "13 SLA rebuilt from offset 0",
        hotline,
        dlq_before=dlq,
        note=f"{len(before['clocks'])} clocks, {len(before['measures'])} measures identical; "
        + rebuilt.stdout.strip().splitlines()[-1][:60],
    )
    assert tally.queued == 10
