"""The faults a city deployment meets, one scenario each, on one stack that must come back healthy
from every one of them without a manual step. Each drives complaints through the real services,
injects its fault, and counts: accepted, stored, queued at departments, whistles and assignments per
complaint. Pass: nothing accepted is lost, nothing is applied twice, no dead letter unless the
scenario is about one, and every process healthy again afterwards.

Scenarios 10, 11 and 13 (claims, read scoping, SLA rebuild) are in test_department_scenarios.py,
on the same stack.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
import uuid
from collections import Counter

import httpx
import orjson
import pytest
from aiokafka.partitioner import DefaultPartitioner

from shared.dlq import read_dead_letters
from shared.events import COMPLAINTS
from tests.builders import read_topics
from tests.e2e.polling import eventually
from tests.reliability.harness import PROFILE, FaultStack, Hotline, Tally, complaint, settle
from tests.reliability.results import RESULTS, Result

pytestmark = pytest.mark.reliability

CUT_OFF = {"ConnectError", "ReadTimeout", "RemoteProtocolError", "ReadError", "WriteError", "PoolTimeout"}


async def finish(
    stack: FaultStack,
    scenario: str,
    hotline: Hotline,
    *,
    dlq_before: int,
    note: str = "",
    dlq_expected: int = 0,
) -> Tally:
    """Count the scenario, check the promise, and put its row in the table."""
    tally = await settle(stack, hotline.accepted, prefix=hotline.prefix, per_complaint=stack.per_complaint)
    healthy_after = await stack.wait_ready(within=90)
    dead = await stack.dead_letters() - dlq_before
    RESULTS.append(Result(scenario, tally, dead, healthy_after, note))
    assert hotline.abandoned == [], f"calls never answered: {hotline.abandoned[:5]}"
    assert tally.accepted > 0
    assert tally.lost == 0, tally
    assert tally.duplicated == 0, tally
    assert tally.whistles == tally.accepted, tally
    assert tally.stored == tally.accepted, tally  # every stored complaint was acknowledged, once
    assert dead == dlq_expected, f"{dead} dead letters"
    assert "500" not in hotline.answers, hotline.answers
    return tally


async def test_01_a_dispatch_killed_mid_batch_hands_over_to_its_replica(fault_stack: FaultStack) -> None:
    stack = fault_stack
    await stack.start_process("dispatch", "dispatch-2")
    await stack.wait_ready(["dispatch-2"])
    dlq = await stack.dead_letters()
    async with Hotline(stack, "s01") as hotline:
        await asyncio.sleep(PROFILE.load_seconds)
        link = stack.processes["dispatch"].db_link
        link.stall()  # the batch it holds now waits on the database …
        await asyncio.sleep(1)
        await stack.kill("dispatch")  # … and dies there, its transaction open
        link.flow()
        await asyncio.sleep(PROFILE.load_seconds)
    taken_over = await settle(stack, hotline.accepted, prefix="s01", per_complaint=stack.per_complaint)
    assert taken_over.lost == 0, taken_over  # the replica alone queued every complaint
    await stack.start_process("dispatch")  # what a supervisor does
    await finish(stack, "1 dispatch kill -9 mid-batch, replica takes over", hotline, dlq_before=dlq)
    await stack.stop_process("dispatch-2")


async def test_02_a_broker_frozen_past_the_request_timeout(fault_stack: FaultStack) -> None:
    stack = fault_stack
    frozen = max(PROFILE.outage_seconds, 12.0)  # the producers' request timeout is 10 s
    dlq = await stack.dead_letters()
    async with Hotline(stack, "s02") as hotline:
        await asyncio.sleep(PROFILE.load_seconds)
        await asyncio.to_thread(stack.broker.pause)
        accepted_before = len(hotline.accepted)
        await asyncio.sleep(frozen)
        accepted_while_frozen = len(hotline.accepted) - accepted_before
        await asyncio.to_thread(stack.broker.resume)
        await asyncio.sleep(PROFILE.load_seconds)
    await finish(
        stack,
        f"2 broker SIGSTOP {frozen:.0f}s",
        hotline,
        dlq_before=dlq,
        note=f"{accepted_while_frozen} accepted while frozen",
    )
    assert accepted_while_frozen > 0  # intake takes complaints without the broker
    assert hotline.refused() == Counter(), hotline.answers


async def test_03_the_relay_killed_between_publishing_and_marking(fault_stack: FaultStack) -> None:
    stack = fault_stack
    dlq = await stack.dead_letters()
    await stack.stop_process("intake")
    intake = await stack.start_process("intake", WHISTLE_CRASH_AT="relay.after_publish")
    async with Hotline(stack, "s03") as hotline:

        async def crashed() -> bool:
            return not intake.alive

        # The first batch it publishes is its last: it dies before the claim commits.
        await eventually(crashed, seconds=60)
        assert intake.popen is not None and intake.popen.returncode == 137
        before_crash = set(hotline.accepted.values())
        await stack.start_process("intake")
        await stack.wait_ready(["intake"])
        await asyncio.sleep(PROFILE.load_seconds)
    records = await read_topics(stack.broker.bootstrap_servers, COMPLAINTS, seconds=10)
    copies = Counter(
        orjson.loads(r.value)["event_id"] for r in records if r.key and r.key.decode() in before_crash
    )
    repeated = sum(1 for n in copies.values() if n > 1)
    await finish(
        stack,
        "3 relay killed between publish and mark",
        hotline,
        dlq_before=dlq,
        note=f"{repeated} events published twice",
    )
    assert repeated > 0  # the fault happened: events went out twice, and were applied once


async def test_04_a_consumer_frozen_past_its_session_while_another_takes_over(
    fault_stack: FaultStack,
) -> None:
    stack = fault_stack
    await stack.start_process("dispatch", "dispatch-2")
    await stack.wait_ready(["dispatch-2"])
    dlq = await stack.dead_letters()
    frozen = PROFILE.session_timeout_ms / 1000 + 4
    async with Hotline(stack, "s04") as hotline:
        await asyncio.sleep(PROFILE.load_seconds)
        stack.signal("dispatch", signal.SIGSTOP)
        await asyncio.sleep(frozen)
        stack.signal("dispatch", signal.SIGCONT)
        await asyncio.sleep(PROFILE.load_seconds)
    await finish(stack, f"4 consumer SIGSTOP {frozen:.0f}s past its session", hotline, dlq_before=dlq)
    await stack.stop_process("dispatch-2")


async def test_05_postgres_stopped_immediately_under_load(fault_stack: FaultStack) -> None:
    stack = fault_stack
    dlq = await stack.dead_letters()
    async with Hotline(stack, "s05") as hotline:
        await asyncio.sleep(PROFILE.load_seconds)
        await asyncio.to_thread(stack.postgres.crash)  # -m immediate: no checkpoint, recovery on start
        await asyncio.sleep(3)
        await asyncio.to_thread(stack.postgres.start)
        await stack.reconnect()
        await asyncio.sleep(PROFILE.load_seconds)
    refused = hotline.refused()
    await finish(
        stack,
        "5 PostgreSQL stop -m immediate",
        hotline,
        dlq_before=dlq,
        note=f"refused while down: {dict(refused)}",
    )
    assert refused  # calls were refused while the database was down …
    assert set(refused) <= {"503"} | CUT_OFF, refused  # … with 503 or cut off, never a 500 or a 201


async def test_06_the_consumers_database_down(fault_stack: FaultStack) -> None:
    stack = fault_stack
    dlq = await stack.dead_letters()
    link = stack.processes["dispatch"].db_link
    async with Hotline(stack, "s06") as hotline:
        await asyncio.sleep(PROFILE.load_seconds)
        await link.cut()
        await asyncio.sleep(PROFILE.outage_seconds)
        await link.start()
        await asyncio.sleep(PROFILE.load_seconds)
    await finish(stack, f"6 dispatch's database away {PROFILE.outage_seconds:.0f}s", hotline, dlq_before=dlq)


async def test_07_connections_cut_by_the_network(fault_stack: FaultStack) -> None:
    stack = fault_stack
    dlq = await stack.dead_letters()
    async with Hotline(stack, "s07") as hotline:
        for _ in range(3):
            await asyncio.sleep(PROFILE.load_seconds / 2)
            for process in stack.processes.values():
                process.db_link.drop()
            stack.broker_link.drop()
        await asyncio.sleep(PROFILE.load_seconds)
    await finish(stack, "7 every database and broker connection reset x3", hotline, dlq_before=dlq)


async def test_08_a_poison_message_goes_to_the_dlq_and_comes_back_once(fault_stack: FaultStack) -> None:
    """A bug in dispatch (a constraint standing in for it) refuses complaints of street s2: they are
    retried, then dead-lettered, while the complaints behind them on their partitions flow; once the
    bug is fixed, `whistle dlq redrive` applies each once, however often it is run."""
    stack = fault_stack
    assert stack.db is not None
    dlq = await stack.dead_letters()
    await stack.db.execute(
        "ALTER TABLE dispatch.whistles ADD CONSTRAINT reliability_bug CHECK (street_code <> 's2') NOT VALID"
    )
    try:
        async with Hotline(stack, "s08") as hotline:
            await asyncio.sleep(PROFILE.load_seconds)
        async with httpx.AsyncClient(base_url=stack.url("intake"), timeout=10) as client:
            client.headers["Authorization"] = f"Bearer {await stack.token('hotline')}"
            poison = complaint(f"s08-poison-{uuid.uuid4().hex[:6]}")
            poison["location"] = {"lat": 39.915, "lon": 116.405}  # street s2
            response = await client.post("/v1/complaints", json=poison)
            assert response.status_code == 201, response.text
            poison_id = response.json()["id"]
        async with Hotline(stack, "s08b") as behind:
            await asyncio.sleep(PROFILE.load_seconds)
        flowing = await settle(stack, behind.accepted, prefix="s08b", per_complaint=stack.per_complaint)
        assert flowing.lost == 0, flowing  # the poison's partition kept flowing
        partitions = DefaultPartitioner()
        poisoned = partitions(poison_id.encode(), list(range(6)), list(range(6)))
        assert any(
            partitions(c.encode(), list(range(6)), list(range(6))) == poisoned
            for c in behind.accepted.values()
        )

        async def dead_lettered() -> list[str]:
            entries = await read_dead_letters(stack.broker.bootstrap_servers, COMPLAINTS, within=3)
            return [e.ref for e in entries if e.key == poison_id.encode()]

        refs = await eventually(dead_lettered, seconds=60)
    finally:
        await stack.db.execute("ALTER TABLE dispatch.whistles DROP CONSTRAINT IF EXISTS reliability_bug")
    for _ in range(2):  # an operator who redrives twice changes nothing the second time
        await _whistle(
            "dlq",
            "redrive",
            COMPLAINTS,
            "--offsets",
            ",".join(refs),
            "--bootstrap",
            stack.broker.bootstrap_servers,
        )
    hotline.accepted[poison["source_ref"]] = poison_id
    hotline.accepted.update(behind.accepted)
    hotline.prefix = "s08"
    await finish(
        stack,
        "8 poison message, DLQ, fix, redrive twice",
        hotline,
        dlq_before=dlq,
        dlq_expected=1,
        note=f"dead-lettered after retries, redriven: {', '.join(refs)}",
    )


async def _whistle(*args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0, out.decode()
    return out.decode()


async def test_09_the_same_call_twenty_times_at_once_is_one_complaint(fault_stack: FaultStack) -> None:
    stack = fault_stack
    dlq = await stack.dead_letters()
    hotline = Hotline(stack, "s09")
    token = await stack.token("hotline")
    async with httpx.AsyncClient(
        base_url=stack.url("intake"), timeout=10, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        by_ref = complaint(f"s09-{uuid.uuid4().hex[:6]}")
        answers = await asyncio.gather(*(client.post("/v1/complaints", json=by_ref) for _ in range(20)))
        key = f"s09-key-{uuid.uuid4().hex}"
        by_key = complaint("unused")
        del by_key["source_ref"]
        keyed = await asyncio.gather(
            *(client.post("/v1/complaints", json=by_key, headers={"Idempotency-Key": key}) for _ in range(20))
        )
    for group in (answers, keyed):
        codes = Counter(r.status_code for r in group)
        assert codes[201] == 1 and codes[200] == 19, codes
        assert len({r.json()["id"] for r in group}) == 1
    hotline.accepted[by_ref["source_ref"]] = answers[0].json()["id"]
    hotline.accepted[key] = keyed[0].json()["id"]
    hotline.answers.update(str(r.status_code) for r in answers + keyed)
    await finish(stack, "9 one call 20x concurrently (source_ref, key)", hotline, dlq_before=dlq)


async def test_12_bad_input_writes_nothing(fault_stack: FaultStack) -> None:
    stack = fault_stack
    assert stack.db is not None
    dlq = await stack.dead_letters()
    token = await stack.token("hotline")
    prefix = "s12"
    hotline = Hotline(stack, prefix)
    async with httpx.AsyncClient(
        base_url=stack.url("intake"), timeout=20, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        huge = complaint(f"{prefix}-huge")
        huge["description"] = "很" * (700 << 10)  # 2 MiB of JSON
        assert (await client.post("/v1/complaints", json=huge)).status_code == 413
        bad = complaint(f"{prefix}-bad")
        bad["location"] = {"lat": 91, "lon": 500}
        assert (await client.post("/v1/complaints", json=bad)).status_code == 422
        await asyncio.sleep(2)  # a full bucket for the flood
        flood = [complaint(f"{prefix}-flood-{i}") for i in range(400)]
        answers = await asyncio.gather(*(client.post("/v1/complaints", json=c) for c in flood))
    codes = Counter(r.status_code for r in answers)
    assert codes[429] > 0 and set(codes) <= {201, 429}, codes
    assert all(r.headers.get("Retry-After") for r in answers if r.status_code == 429)
    for body, answer in zip(flood, answers, strict=True):
        hotline.answers[str(answer.status_code)] += 1
        if answer.status_code == 201:
            hotline.accepted[body["source_ref"]] = answer.json()["id"]
    stored_refused = await stack.db.fetchval(
        "SELECT count(*) FROM intake.complaints WHERE source_ref = ANY($1::text[])",
        [f"{prefix}-huge", f"{prefix}-bad"]
        + [b["source_ref"] for b, a in zip(flood, answers, strict=True) if a.status_code != 201],
    )
    assert stored_refused == 0
    await finish(
        stack,
        "12 oversize 413, invalid 422, flood 429",
        hotline,
        dlq_before=dlq,
        note=f"flood of 400: {codes[201]} accepted, {codes[429]} refused 429",
    )


async def test_14_a_batch_longer_than_the_poll_interval(fault_stack: FaultStack) -> None:
    stack = fault_stack
    dlq = await stack.dead_letters()
    held = PROFILE.max_poll_interval_ms / 1000 + 4
    link = stack.processes["dispatch"].db_link
    pid = stack.processes["dispatch"].popen.pid  # type: ignore[union-attr]
    async with Hotline(stack, "s14") as hotline:
        await asyncio.sleep(PROFILE.load_seconds)
        link.stall()  # the batch in hand takes longer than max_poll_interval_ms …
        started = time.monotonic()
        await asyncio.sleep(held)
        link.flow()  # … and then finishes
        await asyncio.sleep(PROFILE.load_seconds)
    await finish(
        stack,
        f"14 a batch held {time.monotonic() - started:.0f}s > max_poll_interval",
        hotline,
        dlq_before=dlq,
    )
    assert stack.processes["dispatch"].popen.pid == pid  # type: ignore[union-attr]  # nothing restarted it
