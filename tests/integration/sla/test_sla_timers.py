"""The durable timer on the real servers: two SLA processes, one killed and restarted in the middle,
and every warning and breach is emitted exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from datetime import timedelta

import pytest

from shared.events import SLA_EVENTS, Envelope, utcnow
from tests.builders import read_topics
from tests.e2e.polling import eventually
from tests.integration.sla.conftest import SlaDb, city_cache, create_issued, fast_city

pytestmark = pytest.mark.integration


async def start_replica(sla: SlaDb, bootstrap: str) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.integration.sla.timer_process",
        sla.url,
        bootstrap,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env=dict(os.environ, SLA_LOG_LEVEL="WARNING"),
    )
    assert process.stdout is not None
    while b"started" not in await asyncio.wait_for(process.stdout.readline(), timeout=30):
        pass
    return process


async def test_timers_fire_once_across_two_processes_and_a_restart(sla: SlaDb, infra) -> None:  # type: ignore[no-untyped-def]
    sla.cache = city_cache(fast_city(seconds=2))
    sla.handlers.cache = sla.handlers.keeper.cache = sla.cache
    start = utcnow() + timedelta(seconds=2)
    whistles = [create_issued(issued_at=start + timedelta(milliseconds=75 * i)) for i in range(40)]
    await sla.deliver(*whistles)
    clock_ids = {r.clock_id for r in await sla.rows("SELECT clock_id FROM sla.clocks")}
    assert len(clock_ids) == 200

    first = await start_replica(sla, infra.bootstrap_servers)
    second = await start_replica(sla, infra.bootstrap_servers)
    try:
        await asyncio.sleep(max(0.0, (start - utcnow()).total_seconds()) + 2.5)  # in the thick of it
        first.send_signal(signal.SIGKILL)
        await first.wait()
        first = await start_replica(sla, infra.bootstrap_servers)

        async def all_fired() -> bool:
            return not await sla.rows("SELECT 1 FROM sla.timers LIMIT 1")

        async def all_published() -> bool:
            return not await sla.rows("SELECT 1 FROM sla.outbox WHERE sent_at IS NULL LIMIT 1")

        await eventually(all_fired, seconds=30)
        await eventually(all_published, seconds=30)
    finally:
        for process in (first, second):
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await process.wait()

    written = Counter(
        (e.payload["clock_id"], e.type)
        for e in await sla.events()
        if e.type in ("clock.warning", "clock.breached")
    )
    assert set(written) == {(c, t) for c in clock_ids for t in ("clock.warning", "clock.breached")}
    assert set(written.values()) == {1}
    records = await read_topics(infra.bootstrap_servers, SLA_EVENTS, seconds=20)
    on_topic: dict[tuple[str, str], set[str]] = {}
    for record in records:
        envelope = Envelope.from_bytes(record.value)
        if envelope.payload.get("clock_id") in clock_ids and envelope.type in (
            "clock.warning",
            "clock.breached",
        ):
            on_topic.setdefault((envelope.payload["clock_id"], envelope.type), set()).add(
                str(envelope.event_id)
            )
    assert set(on_topic) == set(written)  # none missed
    assert {len(ids) for ids in on_topic.values()} == {1}  # none emitted twice (a re-send keeps its event id)
    clocks = await sla.rows("SELECT due_at, breached_at FROM sla.clocks")
    assert all(c.breached_at >= c.due_at for c in clocks)
