"""Faults a consumer group meets in a city deployment: a frozen broker, a frozen member, a batch
longer than the poll interval. Each must end with everything applied exactly once, the consumer
alive, and no committed offset ever going backwards."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy.ext.asyncio import AsyncSession

from shared.embedded import EmbeddedBroker, free_port
from shared.events import Envelope, RegistryChanged
from shared.kafka import ensure_topics, make_producer
from tests.integration.shared.consumer_helpers import (
    FAST,
    Running,
    create_event,
    make_consumer,
    recording_handler,
    until,
)

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
async def own_broker(playground) -> AsyncIterator[tuple]:  # type: ignore[no-untyped-def, type-arg]
    """A broker of this test's own (it is frozen), the playground's topic on it, and a producer."""
    broker = EmbeddedBroker(port=free_port())
    broker.start()
    await ensure_topics(broker.bootstrap_servers, [playground.topic], partitions=3)
    producer = make_producer(broker.bootstrap_servers, client_id="faults")
    await producer.start()
    try:
        yield broker, producer, replace(playground, bootstrap=broker.bootstrap_servers)
    finally:
        with contextlib.suppress(Exception):
            await producer.stop()
        broker.stop()


async def distinct_effects(playground) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(effect rows, distinct events among them): equal when nothing was applied twice."""
    async with playground.engine.connect() as connection:
        row = (
            await connection.exec_driver_sql(
                f"SELECT count(*), count(DISTINCT event_id) FROM {playground.effects.fullname}"
            )
        ).one()
    return int(row[0]), int(row[1])


async def produce(producer, topic: str, versions: range) -> None:  # type: ignore[no-untyped-def]
    for v in versions:
        await producer.send(topic, create_event(v, correlation_id=f"k{v}").to_bytes(), key=f"k{v}".encode())
    await producer.flush()


async def test_a_broker_frozen_while_a_consumer_holds_a_batch_loses_and_repeats_nothing(own_broker) -> None:  # type: ignore[no-untyped-def]
    broker, producer, playground = own_broker
    holding, release = asyncio.Event(), asyncio.Event()
    record = recording_handler(playground)

    async def holds_the_first(session: AsyncSession, payload: RegistryChanged, envelope: Envelope) -> None:
        if not holding.is_set():
            holding.set()
            await release.wait()
        await record(session, payload, envelope)

    tuning = replace(FAST, session_timeout_ms=6000, request_timeout_ms=8000)
    consumer = make_consumer(playground, producer, holds_the_first, tuning=tuning)
    async with Running(consumer) as running:
        await produce(producer, playground.topic, range(0, 5))
        await asyncio.wait_for(holding.wait(), 30)
        broker.pause()  # longer than the request and the session timeouts
        await asyncio.sleep(10)
        release.set()  # the batch finishes while the broker is still frozen: its commit cannot go out
        await asyncio.sleep(2)
        broker.resume()
        await produce(producer, playground.topic, range(5, 10))
        await until(lambda: _is(distinct_effects(playground), (10, 10)), seconds=60)
        await asyncio.sleep(2)  # anything applied twice would show by now
        assert running.task is not None and not running.task.done()
    assert await distinct_effects(playground) == (10, 10)


async def test_a_batch_longer_than_the_poll_interval_kills_nothing_and_loses_nothing(
    playground, producer
) -> None:  # type: ignore[no-untyped-def]
    slow = {"left": 1}
    record = recording_handler(playground)

    async def slow_once(session: AsyncSession, payload: RegistryChanged, envelope: Envelope) -> None:
        if slow["left"]:
            slow["left"] -= 1
            await asyncio.sleep(4.5)  # longer than max_poll_interval_ms: the member leaves the group
        await record(session, payload, envelope)

    tuning = replace(FAST, max_poll_interval_ms=3000)
    async with Running(make_consumer(playground, producer, slow_once, tuning=tuning)) as running:
        await produce(producer, playground.topic, range(0, 4))
        await until(lambda: _is(distinct_effects(playground), (4, 4)), seconds=60)
        await produce(producer, playground.topic, range(4, 6))  # and it is still consuming
        await until(lambda: _is(distinct_effects(playground), (6, 6)), seconds=60)
        assert running.task is not None and not running.task.done()
    assert await distinct_effects(playground) == (6, 6)


async def test_a_member_frozen_past_its_session_never_moves_an_offset_backwards(
    playground, producer, infra
) -> None:  # type: ignore[no-untyped-def]
    group = "g-frozen"
    frozen = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.integration.shared.consumer_process", infra.database_url,
        playground.tables.outbox.schema, playground.bootstrap, playground.topic, group, "--hold", "3",
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    watcher = OffsetWatcher(playground.bootstrap, group, playground.topic)
    watch = asyncio.create_task(watcher.run())
    try:
        await asyncio.wait_for(_line(frozen, b"started"), 30)
        await produce(producer, playground.topic, range(1, 4))  # version 1 is held by the member
        await asyncio.wait_for(_line(frozen, b"holding"), 60)
        frozen.send_signal(signal.SIGSTOP)  # frozen with a batch in hand, past its session timeout
        survivor = make_consumer(playground, producer, recording_handler(playground), group=group)
        async with Running(survivor):
            await until(lambda: _is(distinct_effects(playground), (3, 3)), seconds=60)
            await produce(producer, playground.topic, range(4, 10))
            await until(lambda: _is(distinct_effects(playground), (9, 9)), seconds=60)
            await asyncio.sleep(1)
            frozen.send_signal(signal.SIGCONT)  # it wakes up and finishes its old batch
            await asyncio.sleep(8)
            await produce(producer, playground.topic, range(10, 12))
            await until(lambda: _is(distinct_effects(playground), (11, 11)), seconds=60)
            await asyncio.sleep(3)
    finally:
        frozen.send_signal(signal.SIGCONT)
        frozen.terminate()
        await asyncio.wait_for(frozen.wait(), 20)
        watcher.stop = True
        await watch
    assert watcher.went_backwards == []
    assert watcher.samples > 20
    assert await distinct_effects(playground) == (11, 11)


class OffsetWatcher:
    """Reads the group's committed offsets every 100 ms and notes any that went backwards."""

    def __init__(self, bootstrap: str, group: str, topic: str) -> None:
        self.bootstrap, self.group, self.topic = bootstrap, group, topic
        self.highest: dict[TopicPartition, int] = {}
        self.went_backwards: list[tuple[TopicPartition, int, int]] = []
        self.samples = 0
        self.stop = False

    async def run(self) -> None:
        # A consumer of the group that never joins it: it only reads the committed offsets.
        reader = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=self.group, enable_auto_commit=False
        )
        await reader.start()
        tps = [
            TopicPartition(self.topic, p)
            for p in sorted(reader.partitions_for_topic(self.topic) or {0, 1, 2})
        ]
        try:
            while not self.stop:
                with contextlib.suppress(Exception):
                    for tp in tps:
                        offset = await reader.committed(tp)
                        if offset is None:
                            continue
                        if offset < self.highest.get(tp, -1):
                            self.went_backwards.append((tp, self.highest[tp], offset))
                        self.highest[tp] = max(offset, self.highest.get(tp, -1))
                    self.samples += 1
                await asyncio.sleep(0.1)
        finally:
            await reader.stop()


async def _line(proc: asyncio.subprocess.Process, wanted: bytes) -> None:
    """Read the process's output up to a line that is `wanted` (its logs come in between)."""
    assert proc.stdout is not None
    while (line := await proc.stdout.readline()) and line.strip() != wanted:
        pass
    assert line, f"the process ended before printing {wanted!r}"


async def _is(awaitable, expected) -> bool:  # type: ignore[no-untyped-def]
    return await awaitable == expected
