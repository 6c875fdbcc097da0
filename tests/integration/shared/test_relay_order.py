"""The relay publishes each complaint's events in the order their transactions committed, however
many relays run, and a relay that stalls or dies neither reorders nor loses anything."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence

import pytest

from shared.events import Envelope, RegistryChanged
from shared.kafka import KafkaPublisher
from shared.messaging_tables import Outbox, PendingMessage, outbox_row, write_rows
from shared.outbox_relay import OutboxRelay, PostgresOutboxStore, Published
from tests.integration.shared.consumer_helpers import read_all, until

pytestmark = pytest.mark.integration


class StallingPublisher:
    """Publishes the first `before_stall` messages of its first batch, then waits for `gate`."""

    def __init__(self, inner: KafkaPublisher, *, before_stall: int) -> None:
        self.inner = inner
        self.before_stall = before_stall
        self.stalled = asyncio.Event()
        self.gate = asyncio.Event()
        self.calls = 0

    async def publish(self, messages: Sequence[PendingMessage]) -> Published:
        self.calls += 1
        if self.calls == 1:
            await self.inner.publish(messages[: self.before_stall])
            self.stalled.set()
            await self.gate.wait()
            await self.inner.publish(messages[self.before_stall :])
            return Published()
        return await self.inner.publish(messages)


async def write_round(playground, n_keys: int, round_: int) -> None:  # type: ignore[no-untyped-def]
    """One transaction per key: the key's event number `round_`."""
    outbox = Outbox(playground.tables.outbox, producer="test")
    for k in range(n_keys):
        async with playground.sessions() as session, session.begin():
            await outbox.add(
                session,
                RegistryChanged(snapshot_version=round_),
                correlation_id=f"k{k}",
                topic=playground.topic,
            )


def per_key_first_delivery(records) -> dict[str, list[int]]:  # type: ignore[no-untyped-def]
    """Each key's event numbers in the order they first reached the topic (duplicates dropped)."""
    seen: set[str] = set()
    order: dict[str, list[int]] = defaultdict(list)
    for r in sorted(records, key=lambda r: (r.partition, r.offset)):
        envelope = Envelope.from_bytes(r.value)
        if str(envelope.event_id) in seen:
            continue
        seen.add(str(envelope.event_id))
        order[envelope.correlation_id].append(envelope.payload["snapshot_version"])
    return order


def relay_on(playground, publisher) -> OutboxRelay:  # type: ignore[no-untyped-def]
    return OutboxRelay(
        PostgresOutboxStore(playground.engine, playground.tables.outbox),
        publisher,
        service="test",
        batch_size=50,
        idle_poll_seconds=0.05,
    )


async def test_two_relays_one_stalled_mid_batch_keep_each_complaints_order(playground, producer) -> None:  # type: ignore[no-untyped-def]
    await write_round(playground, 10, 0)
    stalling = StallingPublisher(KafkaPublisher(producer), before_stall=4)
    first, second = relay_on(playground, stalling), relay_on(playground, KafkaPublisher(producer))
    stop = asyncio.Event()
    tasks = [asyncio.create_task(first.run(stop))]
    await asyncio.wait_for(stalling.stalled.wait(), 10)  # the first relay holds round 0, half sent
    tasks.append(asyncio.create_task(second.run(stop)))
    for round_ in (1, 2, 3):
        await write_round(playground, 10, round_)  # newer events of the same keys, for the other relay
    await asyncio.sleep(1)
    stalling.gate.set()

    async def all_sent() -> bool:
        async with playground.sessions() as session:
            return await Outbox(playground.tables.outbox, producer="test").backlog(session) == 0

    await until(all_sent)
    stop.set()
    await asyncio.gather(*tasks)
    order = per_key_first_delivery(await read_all(playground.bootstrap, playground.topic))
    assert order == {f"k{k}": [0, 1, 2, 3] for k in range(10)}


async def test_a_relay_that_dies_mid_batch_hands_over_and_nothing_is_lost(playground, producer) -> None:  # type: ignore[no-untyped-def]
    await write_round(playground, 6, 0)
    await write_round(playground, 6, 1)
    stalling = StallingPublisher(KafkaPublisher(producer), before_stall=5)
    dying, survivor = relay_on(playground, stalling), relay_on(playground, KafkaPublisher(producer))
    stop = asyncio.Event()
    doomed = asyncio.create_task(dying.run(stop))
    await asyncio.wait_for(stalling.stalled.wait(), 10)
    doomed.cancel()  # the process dies mid-batch: its transaction rolls back, the lock is released
    await asyncio.gather(doomed, return_exceptions=True)
    task = asyncio.create_task(survivor.run(stop))

    async def all_sent() -> bool:
        async with playground.sessions() as session:
            return await Outbox(playground.tables.outbox, producer="test").backlog(session) == 0

    await until(all_sent)
    stop.set()
    await task
    records = await read_all(playground.bootstrap, playground.topic)
    assert per_key_first_delivery(records) == {f"k{k}": [0, 1] for k in range(6)}
    assert len(records) == 12 + 5  # the five sent before the death are sent again, as duplicates


async def test_outbox_ids_follow_commit_order_for_one_complaint(playground, producer) -> None:  # type: ignore[no-untyped-def]
    """A transaction writing a complaint's events holds that complaint's lock until it commits: a
    second one waits, so ids (and the relay's order) follow commit order."""
    first = outbox_row(
        Outbox(playground.tables.outbox, producer="t").envelope(
            RegistryChanged(snapshot_version=1), correlation_id="c"
        ),
        topic=playground.topic,
    )
    second = outbox_row(
        Outbox(playground.tables.outbox, producer="t").envelope(
            RegistryChanged(snapshot_version=2), correlation_id="c"
        ),
        topic=playground.topic,
    )
    async with playground.engine.connect() as one, playground.engine.connect() as two:
        await one.begin()
        await write_rows(one, playground.tables.outbox, [first])
        await two.begin()
        blocked = asyncio.create_task(write_rows(two, playground.tables.outbox, [second]))
        await asyncio.sleep(0.5)
        assert not blocked.done()  # waits for the first transaction to commit
        await one.commit()
        await asyncio.wait_for(blocked, 5)
        await two.commit()
    relay = relay_on(playground, KafkaPublisher(producer))
    assert await relay.relay_once() == 2
    order = per_key_first_delivery(await read_all(playground.bootstrap, playground.topic))
    assert order == {"c": [1, 2]}


async def test_a_row_too_large_to_publish_is_set_aside_and_the_rows_behind_it_flow(
    playground, producer
) -> None:  # type: ignore[no-untyped-def]
    outbox = Outbox(playground.tables.outbox, producer="test")
    async with playground.sessions() as session, session.begin():
        await outbox.add(
            session, RegistryChanged(snapshot_version=1), correlation_id="c", topic=playground.topic
        )
        await outbox.add(
            session,
            RegistryChanged(snapshot_version=2, changed=["x" * 50_000]),
            correlation_id="c",
            topic=playground.topic,
        )
        await outbox.add(
            session, RegistryChanged(snapshot_version=3), correlation_id="c", topic=playground.topic
        )
    relay = relay_on(playground, KafkaPublisher(producer, max_message_bytes=10_000))
    assert await relay.relay_once() == 3
    assert await relay.relay_once() == 0  # nothing left blocking
    order = per_key_first_delivery(await read_all(playground.bootstrap, playground.topic))
    assert order == {"c": [1, 3]}
    async with playground.engine.connect() as connection:
        aside = (
            await connection.exec_driver_sql(
                f"SELECT error FROM {playground.tables.outbox.fullname} WHERE failed_at IS NOT NULL"
            )
        ).all()
    assert len(aside) == 1 and "too large" in aside[0][0]
