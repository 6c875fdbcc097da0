"""The outbox relay's decisions, on an in-memory store and a publisher that can be made to fail."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from shared.consumer_decisions import backoff_seconds
from shared.messaging_tables import PendingMessage
from shared.outbox_relay import OutboxRelay, Published


def create_message(n: int, *, key: str = "c1", value: bytes | None = None) -> PendingMessage:
    return PendingMessage(
        row_id=n,
        event_id=uuid.uuid4(),
        topic="t",
        key=key,
        value=value if value is not None else f"e{n}".encode(),
        headers={},
        created_at=datetime.now(UTC),
    )


@dataclass
class MemoryBatch:
    messages: Sequence[PendingMessage]
    sent: list[int] = field(default_factory=list)
    aside: dict[int, str] = field(default_factory=dict)

    async def mark_sent(self, row_ids: Sequence[int]) -> None:
        self.sent = list(row_ids)

    async def set_aside(self, errors: Mapping[int, str]) -> None:
        self.aside = dict(errors)


@dataclass
class MemoryStore:
    """Rows change only if the claiming 'transaction' finishes without error, like PostgreSQL; while
    `held` another relay holds the outbox."""

    pending: list[PendingMessage] = field(default_factory=list)
    sent: list[PendingMessage] = field(default_factory=list)
    aside: dict[int, str] = field(default_factory=dict)
    held: bool = False

    @asynccontextmanager
    async def claim(self, limit: int) -> AsyncIterator[MemoryBatch | None]:
        if self.held:
            yield None
            return
        batch = MemoryBatch(list(self.pending[:limit]))
        yield batch  # an exception here is a rollback: nothing changes
        done = set(batch.sent) | set(batch.aside)
        self.sent.extend(m for m in batch.messages if m.row_id in batch.sent)
        self.aside.update(batch.aside)
        self.pending = [m for m in self.pending if m.row_id not in done]


@dataclass
class FlakyPublisher:
    failures_left: int = 0
    published: list[bytes] = field(default_factory=list)
    calls: int = 0
    limit: int = 1000

    async def publish(self, messages: Sequence[PendingMessage]) -> Published:
        self.calls += 1
        if self.failures_left > 0:
            self.failures_left -= 1
            raise ConnectionError("broker down")
        too_large = {m.row_id: "too large" for m in messages if len(m.value) > self.limit}
        self.published.extend(m.value for m in messages if m.row_id not in too_large)
        return Published(too_large)


async def test_publishes_in_order_and_marks_sent() -> None:
    store = MemoryStore(pending=[create_message(i) for i in range(5)])
    publisher = FlakyPublisher()
    relay = OutboxRelay(store, publisher, service="test", batch_size=3)

    assert await relay.relay_once() == 3
    assert await relay.relay_once() == 2
    assert await relay.relay_once() == 0
    assert publisher.published == [b"e0", b"e1", b"e2", b"e3", b"e4"]
    assert store.pending == []


async def test_failed_publish_keeps_every_row_unsent() -> None:
    store = MemoryStore(pending=[create_message(i) for i in range(3)])
    relay = OutboxRelay(store, FlakyPublisher(failures_left=1), service="test")

    with pytest.raises(ConnectionError):
        await relay.relay_once()
    assert [m.row_id for m in store.pending] == [0, 1, 2]
    assert store.sent == []


async def test_a_row_that_can_never_be_published_is_set_aside_and_the_rest_flows() -> None:
    store = MemoryStore(pending=[create_message(0), create_message(1, value=b"x" * 5000), create_message(2)])
    publisher = FlakyPublisher(limit=1000)
    relay = OutboxRelay(store, publisher, service="test")

    assert await relay.relay_once() == 3
    assert publisher.published == [b"e0", b"e2"]
    assert store.aside == {1: "too large"}
    assert store.pending == []


async def test_relay_waits_while_another_relay_holds_the_outbox() -> None:
    store = MemoryStore(pending=[create_message(0)], held=True)
    publisher = FlakyPublisher()
    relay = OutboxRelay(store, publisher, service="test")

    assert await relay.relay_once() is None
    assert publisher.calls == 0
    store.held = False
    assert await relay.relay_once() == 1


async def test_run_backs_off_while_broker_is_down_then_delivers_everything() -> None:
    store = MemoryStore(pending=[create_message(i) for i in range(4)])
    publisher = FlakyPublisher(failures_left=3)
    relay = OutboxRelay(store, publisher, service="test", idle_poll_seconds=0.01, max_backoff_seconds=0.02)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    for _ in range(300):
        if not store.pending:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, 1)
    assert publisher.published == [b"e0", b"e1", b"e2", b"e3"]
    assert publisher.calls == 4  # three failures, then one batch


async def test_a_wake_publishes_at_once_instead_of_at_the_next_idle_poll() -> None:
    store = MemoryStore()
    publisher = FlakyPublisher()
    relay = OutboxRelay(store, publisher, service="test", idle_poll_seconds=60)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    await asyncio.sleep(0.05)  # the relay found nothing and sleeps for a minute
    store.pending.append(create_message(7))
    relay.wake()
    for _ in range(100):
        if publisher.published:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, 1)
    assert publisher.published == [b"e7"]


def test_backoff_doubles_up_to_the_ceiling() -> None:
    delays = [backoff_seconds(n, base=0.1, ceiling=1.0) for n in range(1, 7)]
    assert delays == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
