"""The outbox relay's decisions, on an in-memory store and a publisher that can be made to fail."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from shared.messaging_tables import PendingMessage
from shared.outbox_relay import OutboxRelay, next_backoff


def create_message(n: int, *, key: str = "c1") -> PendingMessage:
    return PendingMessage(
        row_id=n,
        event_id=uuid.uuid4(),
        topic="t",
        key=key,
        value=f"e{n}".encode(),
        headers={},
        created_at=datetime.now(UTC),
    )


@dataclass
class MemoryBatch:
    store: MemoryStore
    messages: Sequence[PendingMessage]
    marked: bool = False

    async def mark_sent(self) -> None:
        self.marked = True


@dataclass
class MemoryStore:
    """Rows become sent only if the claiming 'transaction' finishes without error, like PostgreSQL."""

    pending: list[PendingMessage] = field(default_factory=list)
    sent: list[PendingMessage] = field(default_factory=list)

    @asynccontextmanager
    async def claim(self, limit: int) -> AsyncIterator[MemoryBatch]:
        batch = MemoryBatch(self, list(self.pending[:limit]))
        yield batch  # an exception here is a rollback: nothing changes
        if batch.marked:
            done = {m.row_id for m in batch.messages}
            self.sent.extend(batch.messages)
            self.pending = [m for m in self.pending if m.row_id not in done]


@dataclass
class FlakyPublisher:
    failures_left: int = 0
    published: list[bytes] = field(default_factory=list)
    calls: int = 0

    async def publish(self, messages: Sequence[PendingMessage]) -> None:
        self.calls += 1
        if self.failures_left > 0:
            self.failures_left -= 1
            raise ConnectionError("broker down")
        self.published.extend(m.value for m in messages)


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


async def test_run_backs_off_while_broker_is_down_then_delivers_everything() -> None:
    store = MemoryStore(pending=[create_message(i) for i in range(4)])
    publisher = FlakyPublisher(failures_left=3)
    relay = OutboxRelay(store, publisher, service="test", poll_seconds=0.001, max_backoff_seconds=0.02)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    for _ in range(200):
        if not store.pending:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, 1)
    assert publisher.published == [b"e0", b"e1", b"e2", b"e3"]
    assert publisher.calls == 4  # three failures, then one batch


def test_backoff_doubles_up_to_the_ceiling() -> None:
    delays = []
    current = 0.0
    for _ in range(6):
        current = next_backoff(current, base=0.1, ceiling=1.0)
        delays.append(current)
    assert delays == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
