"""The consumer loop against the real PostgreSQL and broker: batches, inbox dedupe, DLQ, offsets, and
faults that must be waited out rather than dead-lettered."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import create_engine, sessionmaker
from shared.dlq import read_dead_letters, redrive
from shared.embedded import free_port
from shared.errors import Rejected
from shared.events import Envelope, RegistryChanged, dlq_topic
from tests.integration.shared.consumer_helpers import (
    Running,
    create_event,
    make_consumer,
    read_all,
    recording_handler,
    send,
    until,
)
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.integration


async def test_redelivered_event_has_no_second_effect(playground, producer) -> None:  # type: ignore[no-untyped-def]
    event = create_event(7)
    await send(producer, playground.topic, event.to_bytes())
    await send(producer, playground.topic, event.to_bytes())  # the same event again, as after a crash
    await send(producer, playground.topic, create_event(8).to_bytes())

    async with Running(make_consumer(playground, producer, recording_handler(playground))):
        await until(lambda: _equals(playground.count(playground.tables.inbox), 2))
    assert await playground.count(playground.effects) == 2  # one per distinct event


async def test_poison_message_goes_to_dlq_and_the_partition_keeps_flowing(playground, producer) -> None:  # type: ignore[no-untyped-def]
    await send(producer, playground.topic, b"{not json")
    await send(producer, playground.topic, create_event(2).to_bytes())

    async with Running(make_consumer(playground, producer, recording_handler(playground))):
        await until(lambda: _equals(playground.count(playground.effects), 1))
        dead = await _dead(playground, 1)
    assert [r.value for r in dead] == [b"{not json"]
    assert dead[0].headers["x-source-topic"] == playground.topic
    assert dead[0].headers["x-source-offset"] == "0"
    assert "undecodable" in dead[0].error


async def test_unknown_event_version_goes_to_dlq(playground, producer) -> None:  # type: ignore[no-untyped-def]
    future = create_event(3).model_copy(update={"version": 99})
    await send(producer, playground.topic, future.to_bytes())
    await send(producer, playground.topic, create_event(4).to_bytes())

    async with Running(make_consumer(playground, producer, recording_handler(playground))):
        await until(lambda: _equals(playground.count(playground.effects), 1))
        dead = await _dead(playground, 1)
    assert Envelope.from_bytes(dead[0].value).version == 99


async def test_a_database_hiccup_is_retried_until_it_passes_and_never_dead_lettered(
    playground, producer
) -> None:  # type: ignore[no-untyped-def]
    await send(producer, playground.topic, create_event(5).to_bytes())
    handler = recording_handler(playground, fail_times=6, error=lambda: ConnectionError("database hiccup"))

    async with Running(make_consumer(playground, producer, handler)):  # max_attempts is 3: not for these
        await until(lambda: _equals(playground.count(playground.tables.inbox), 1))
    assert await playground.count(playground.effects) == 1  # the failed attempts left nothing behind
    assert await read_all(playground.bootstrap, dlq_topic(playground.topic), seconds=1) == []


async def test_a_handler_that_keeps_failing_goes_to_dlq_after_max_attempts(playground, producer) -> None:  # type: ignore[no-untyped-def]
    await send(producer, playground.topic, create_event(6).to_bytes())

    async with Running(make_consumer(playground, producer, recording_handler(playground, fail_times=100))):
        dead = await _dead(playground, 1)
    assert await playground.count(playground.effects) == 0
    assert await playground.count(playground.tables.inbox) == 0
    assert "failed 3 times" in dead[0].error


async def test_offsets_are_committed_after_processing(playground, producer) -> None:  # type: ignore[no-untyped-def]
    await send(producer, playground.topic, create_event(9).to_bytes())
    async with Running(make_consumer(playground, producer, recording_handler(playground), group="g-offsets")):
        await until(lambda: _equals(playground.count(playground.effects), 1))

    seen: list[int] = []

    async def counting(session: AsyncSession, payload: RegistryChanged, envelope: Envelope) -> None:
        seen.append(payload.snapshot_version)

    await send(producer, playground.topic, create_event(10).to_bytes())
    async with Running(make_consumer(playground, producer, counting, group="g-offsets")):
        await until(lambda: _true(bool(seen)))
    assert seen == [10]  # only the new event: the first one's offset was committed


async def test_a_fetched_batch_is_handled_in_one_transaction(playground, producer) -> None:  # type: ignore[no-untyped-def]
    for i in range(60):
        await producer.send(
            playground.topic, create_event(i, correlation_id=f"c{i}").to_bytes(), key=f"c{i}".encode()
        )
    await producer.flush()

    async with Running(make_consumer(playground, producer, recording_handler(playground))):
        await until(lambda: _equals(playground.count(playground.effects), 60))
    async with playground.sessions() as session:
        # now() is the transaction's start: one value per transaction that recorded events
        transactions = (
            await session.execute(
                text(f'SELECT count(DISTINCT processed_at) FROM {playground.tables.inbox.schema}."inbox"')
            )
        ).scalar_one()
    assert transactions <= 3


async def test_a_poison_message_mid_batch_alone_goes_to_the_dlq_and_redrive_applies_it_once(
    playground, producer
) -> None:  # type: ignore[no-untyped-def]
    fixed = {"yes": False}
    record = recording_handler(playground)

    async def refuses_13(session: AsyncSession, payload: RegistryChanged, envelope: Envelope) -> None:
        if payload.snapshot_version == 13 and not fixed["yes"]:
            raise Rejected("version 13 is refused")
        await record(session, payload, envelope)

    for version in (12, 13, 14):  # one key: one partition, one batch
        await producer.send(playground.topic, create_event(version).to_bytes(), key=b"c1")
    await producer.flush()

    async with Running(make_consumer(playground, producer, refuses_13)):
        await until(lambda: _equals(playground.count(playground.effects), 2))
        dead = await _dead(playground, 1)
    assert Envelope.from_bytes(dead[0].value).payload["snapshot_version"] == 13
    assert await _notes(playground) == ["v12", "v14"]

    fixed["yes"] = True  # the fix is deployed
    async with Running(make_consumer(playground, producer, refuses_13)):
        assert await redrive(playground.bootstrap, playground.topic, dead) == 1
        assert await redrive(playground.bootstrap, playground.topic, dead) == 1  # an operator's second try
        await until(lambda: _equals(playground.count(playground.tables.inbox), 3))
        await _settle()
    assert await _notes(playground) == ["v12", "v13", "v14"]


async def test_a_cut_database_connection_pauses_the_consumer_and_loses_nothing(
    playground, producer, infra
) -> None:  # type: ignore[no-untyped-def]
    port = int(infra.database_url.rsplit(":", 1)[1].split("/")[0])
    proxy = TcpProxy(free_port(), port)
    await proxy.start()
    engine = create_engine(infra.database_url.replace(f":{port}/", f":{proxy.listen_port}/"), pool_size=2)
    playground_via_proxy = _with_sessions(playground, sessionmaker(engine))
    consumer = make_consumer(playground_via_proxy, producer, recording_handler(playground))
    try:
        async with Running(consumer):
            await send(producer, playground.topic, create_event(1).to_bytes())
            await until(lambda: _equals(playground.count(playground.effects), 1))
            await proxy.cut()  # the database is unreachable for this consumer
            for version in range(2, 12):
                await send(
                    producer,
                    playground.topic,
                    create_event(version, correlation_id=f"k{version}").to_bytes(),
                    key=f"k{version}".encode(),
                )
            await _settle(3)
            assert await playground.count(playground.effects) == 1
            await proxy.start()
            await until(lambda: _equals(playground.count(playground.effects), 11))
    finally:
        await proxy.cut()
        await engine.dispose()
    assert await playground.count(playground.tables.inbox) == 11
    assert await read_all(playground.bootstrap, dlq_topic(playground.topic), seconds=1) == []


async def test_a_registry_that_is_away_is_waited_for_not_dead_lettered(playground, producer) -> None:  # type: ignore[no-untyped-def]
    calls = {"n": 0}

    async def registry_down_for_a_while(batch: object) -> None:
        calls["n"] += 1
        if calls["n"] <= 6:
            raise httpx.ConnectError("registry unreachable")

    await send(producer, playground.topic, create_event(21).to_bytes())
    consumer = make_consumer(
        playground, producer, recording_handler(playground), prepare=registry_down_for_a_while
    )
    async with Running(consumer):
        await until(lambda: _equals(playground.count(playground.effects), 1))
    assert calls["n"] == 7
    assert await read_all(playground.bootstrap, dlq_topic(playground.topic), seconds=1) == []


# --- helpers ------------------------------------------------------------------------------------


async def _equals(count, expected: int) -> bool:  # type: ignore[no-untyped-def]
    return await count == expected


async def _true(value: bool) -> bool:
    return value


async def _settle(seconds: float = 1.5) -> None:
    import asyncio

    await asyncio.sleep(seconds)


async def _notes(playground) -> list[str]:  # type: ignore[no-untyped-def]
    async with playground.sessions() as session:
        rows = await session.execute(playground.effects.select())
        return sorted(r.note for r in rows)


async def _dead(playground, n: int):  # type: ignore[no-untyped-def]
    found: list = []  # type: ignore[type-arg]

    async def enough() -> bool:
        found[:] = await read_dead_letters(playground.bootstrap, playground.topic, within=2)
        return len(found) >= n

    await until(enough)
    return found


def _with_sessions(playground, sessions):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(playground, sessions=sessions)
