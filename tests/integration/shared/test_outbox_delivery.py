"""The outbox relay against the real PostgreSQL and broker."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from shared.embedded import EmbeddedBroker, free_port
from shared.events import Envelope, RegistryChanged
from shared.kafka import KafkaPublisher, ensure_topics, make_producer
from shared.messaging_tables import Outbox
from shared.outbox_relay import OutboxRelay, PostgresOutboxStore
from tests.builders import read_topics
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.integration


async def read_topic(bootstrap: str, topic: str, *, expect: int, seconds: float = 15) -> list[Envelope]:
    return [
        Envelope.from_bytes(r.value)
        for r in await read_topics(bootstrap, topic, expect=expect, seconds=seconds)
    ]


async def write_events(playground, n: int, *, start: int = 0) -> list[str]:  # type: ignore[no-untyped-def]
    outbox = Outbox(playground.tables.outbox, producer="test")
    ids = []
    async with playground.sessions() as session, session.begin():
        for i in range(start, start + n):
            envelope = await outbox.add(
                session,
                RegistryChanged(snapshot_version=i),
                correlation_id=f"c{i % 4}",
                topic=playground.topic,
            )
            ids.append(str(envelope.event_id))
    return ids


async def test_outbox_rows_are_published_once_and_marked_sent(playground, producer) -> None:  # type: ignore[no-untyped-def]
    ids = await write_events(playground, 5)
    relay = OutboxRelay(
        PostgresOutboxStore(playground.engine, playground.tables.outbox),
        KafkaPublisher(producer),
        service="test",
        batch_size=3,
    )

    assert await relay.relay_once() == 3
    assert await relay.relay_once() == 2
    assert await relay.relay_once() == 0

    received = await read_topic(playground.bootstrap, playground.topic, expect=5)
    assert sorted(str(e.event_id) for e in received) == sorted(ids)
    async with playground.sessions() as session:
        outbox = Outbox(playground.tables.outbox, producer="test")
        assert await outbox.backlog(session) == 0


async def test_uncommitted_events_are_never_published(playground, producer) -> None:  # type: ignore[no-untyped-def]
    outbox = Outbox(playground.tables.outbox, producer="test")
    with pytest.raises(RuntimeError):
        async with playground.sessions() as session, session.begin():
            await outbox.add(
                session, RegistryChanged(snapshot_version=1), correlation_id="c", topic=playground.topic
            )
            raise RuntimeError("the state change failed")
    relay = OutboxRelay(
        PostgresOutboxStore(playground.engine, playground.tables.outbox),
        KafkaPublisher(producer),
        service="test",
    )
    assert await relay.relay_once() == 0
    assert await read_topic(playground.bootstrap, playground.topic, expect=0, seconds=1) == []


async def test_relay_keeps_events_while_broker_is_down_and_delivers_them_after(playground) -> None:  # type: ignore[no-untyped-def]
    proxy_port = free_port()
    broker = EmbeddedBroker(port=free_port(), advertised_port=proxy_port)
    broker.start()
    proxy = TcpProxy(proxy_port, broker.port)
    await proxy.start()
    bootstrap = f"127.0.0.1:{proxy_port}"
    await ensure_topics(bootstrap, [playground.topic], partitions=3)
    producer = make_producer(bootstrap, client_id="relay-test")
    await producer.start()
    relay = OutboxRelay(
        PostgresOutboxStore(playground.engine, playground.tables.outbox),
        KafkaPublisher(producer),
        service="test",
        idle_poll_seconds=0.2,
        max_backoff_seconds=0.5,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        before = await write_events(playground, 2)
        await _wait_for_backlog(playground, 0)
        await proxy.cut()  # the broker is unreachable
        during = await write_events(playground, 3, start=2)
        await asyncio.sleep(2)
        assert await _backlog(playground) == 3  # kept, not dropped, not marked sent

        await proxy.start()  # the broker is back
        await _wait_for_backlog(playground, 0, seconds=30)
        received = await read_topic(bootstrap, playground.topic, expect=5)
        assert sorted(str(e.event_id) for e in received) == sorted(before + during)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await producer.stop()
        await proxy.cut()
        broker.stop()


async def _wait_for_backlog(playground, n: int, seconds: float = 10) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.05)):
        if await _backlog(playground) == n:
            return
        await asyncio.sleep(0.05)


async def _backlog(playground) -> int:  # type: ignore[no-untyped-def]
    async with playground.sessions() as session:
        return await Outbox(playground.tables.outbox, producer="test").backlog(session)


def test_envelope_timestamps_are_utc() -> None:
    envelope = Envelope(type="x", producer="p", correlation_id="c", payload={})
    assert envelope.occurred_at.tzinfo is not None
    assert envelope.occurred_at.utcoffset() == datetime.now(UTC).utcoffset()
