"""The consumer loop against the real PostgreSQL and broker: inbox dedupe, DLQ, offsets."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy.ext.asyncio import AsyncSession

from shared.consumer import ConsumerSpec, EventConsumer
from shared.events import Envelope, RegistryChanged, dlq_topic, envelope_for
from shared.kafka import ensure_topics

pytestmark = pytest.mark.integration


def create_event(version: int = 1, *, correlation_id: str = "c1") -> Envelope:
    return envelope_for(
        RegistryChanged(snapshot_version=version), producer="test", correlation_id=correlation_id
    )


def recording_handler(playground, *, fail_times: int = 0) -> Callable[..., Awaitable[None]]:  # type: ignore[no-untyped-def]
    failures = {"left": fail_times}

    async def handle(session: AsyncSession, payload: RegistryChanged, envelope: Envelope) -> None:
        await session.execute(
            playground.effects.insert().values(
                event_id=str(envelope.event_id), note=f"v{payload.snapshot_version}"
            )
        )
        if failures["left"] > 0:
            failures["left"] -= 1
            raise ConnectionError("database hiccup")  # after the insert: the rollback must undo it

    return handle


async def run_consumer(
    playground,
    producer,
    handler,
    *,
    until: Callable[[], Awaitable[bool]],  # type: ignore[no-untyped-def]
    group: str = "g",
    max_attempts: int = 3,
    seconds: float = 30,
) -> EventConsumer:
    spec = ConsumerSpec(group=group, topics=[playground.topic], handlers={"registry.changed": handler})
    consumer = EventConsumer(
        spec,
        service="test",
        bootstrap_servers=playground.bootstrap,
        sessions=playground.sessions,
        inbox=playground.tables.inbox,
        dlq_producer=producer,
        max_attempts=max_attempts,
        retry_seconds=0.01,
    )
    await consumer.start()
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        for _ in range(int(seconds / 0.1)):
            if await until():
                break
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await consumer.stop()
    return consumer


async def send(producer, topic: str, value: bytes, key: bytes = b"c1") -> None:  # type: ignore[no-untyped-def]
    await producer.send_and_wait(topic, value, key=key)


async def read_all(bootstrap: str, topic: str, *, seconds: float = 3) -> list:  # type: ignore[type-arg]
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    records: list = []  # type: ignore[type-arg]
    try:
        deadline = asyncio.get_running_loop().time() + seconds
        while asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            records += [r for rs in batch.values() for r in rs]
            if records and not batch:
                break
    finally:
        await consumer.stop()
    return records


async def test_redelivered_event_has_no_second_effect(playground, producer) -> None:  # type: ignore[no-untyped-def]
    event = create_event(7)
    await send(producer, playground.topic, event.to_bytes())
    await send(producer, playground.topic, event.to_bytes())  # the same event again, as after a crash
    last = create_event(8)
    await send(producer, playground.topic, last.to_bytes())

    async def both_seen() -> bool:
        return await playground.count(playground.tables.inbox) == 2

    await run_consumer(playground, producer, recording_handler(playground), until=both_seen)
    assert await playground.count(playground.effects) == 2  # one per distinct event
    assert await playground.count(playground.tables.inbox) == 2


async def test_poison_message_goes_to_dlq_and_the_partition_keeps_flowing(playground, producer) -> None:  # type: ignore[no-untyped-def]
    await ensure_topics(playground.bootstrap, [playground.topic], partitions=3)
    await send(producer, playground.topic, b"{not json")
    good = create_event(2)
    await send(producer, playground.topic, good.to_bytes())

    async def good_done() -> bool:
        return await playground.count(playground.effects) == 1

    await run_consumer(playground, producer, recording_handler(playground), until=good_done)
    assert await playground.count(playground.effects) == 1
    dead = await read_all(playground.bootstrap, dlq_topic(playground.topic))
    assert [r.value for r in dead] == [b"{not json"]
    headers = dict(dead[0].headers)
    assert headers["x-source-topic"] == playground.topic.encode()
    assert headers["x-source-offset"] == b"0"
    assert b"undecodable" in headers["x-error"]


async def test_unknown_event_version_goes_to_dlq(playground, producer) -> None:  # type: ignore[no-untyped-def]
    future = create_event(3).model_copy(update={"version": 99})
    await send(producer, playground.topic, future.to_bytes())
    await send(producer, playground.topic, create_event(4).to_bytes())

    async def done() -> bool:
        return await playground.count(playground.effects) == 1

    await run_consumer(playground, producer, recording_handler(playground), until=done)
    dead = await read_all(playground.bootstrap, dlq_topic(playground.topic))
    assert len(dead) == 1 and Envelope.from_bytes(dead[0].value).version == 99


async def test_transient_failure_is_retried_in_a_fresh_transaction(playground, producer) -> None:  # type: ignore[no-untyped-def]
    await send(producer, playground.topic, create_event(5).to_bytes())

    async def done() -> bool:
        return await playground.count(playground.tables.inbox) == 1

    await run_consumer(
        playground, producer, recording_handler(playground, fail_times=2), until=done, max_attempts=3
    )
    assert await playground.count(playground.effects) == 1  # the two failed attempts left nothing behind
    assert await read_all(playground.bootstrap, dlq_topic(playground.topic), seconds=1) == []


async def test_handler_that_keeps_failing_goes_to_dlq_after_max_attempts(playground, producer) -> None:  # type: ignore[no-untyped-def]
    await send(producer, playground.topic, create_event(6).to_bytes())
    dlq_records: list = []  # type: ignore[type-arg]

    async def dead_lettered() -> bool:
        dlq_records[:] = await read_all(playground.bootstrap, dlq_topic(playground.topic), seconds=0.5)
        return bool(dlq_records)

    await run_consumer(
        playground,
        producer,
        recording_handler(playground, fail_times=100),
        until=dead_lettered,
        max_attempts=3,
    )
    assert await playground.count(playground.effects) == 0
    assert await playground.count(playground.tables.inbox) == 0
    assert b"failed 3 times" in dict(dlq_records[0].headers)["x-error"]


async def test_offsets_are_committed_after_processing(playground, producer) -> None:  # type: ignore[no-untyped-def]
    await send(producer, playground.topic, create_event(9).to_bytes())

    async def done() -> bool:
        return await playground.count(playground.effects) == 1

    await run_consumer(playground, producer, recording_handler(playground), until=done, group="g-offsets")
    calls = {"n": 0}

    async def counting(session: AsyncSession, payload: RegistryChanged, envelope: Envelope) -> None:
        calls["n"] += 1

    async def never() -> bool:
        return False

    await send(producer, playground.topic, create_event(10).to_bytes())
    await run_consumer(playground, producer, counting, until=never, group="g-offsets", seconds=8)
    assert calls["n"] == 1  # only the new event: the first one's offset was committed
