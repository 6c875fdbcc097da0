"""The outbox relay: publishes committed outbox rows with acks=all and marks them sent.

A batch is claimed with `FOR UPDATE SKIP LOCKED` (several replicas share the work), published, and
marked sent in the same transaction. If publishing fails the transaction rolls back, the rows stay
unsent and the relay backs off; nothing is ever dropped. A crash between publish and commit
re-publishes the batch: consumers are idempotent on `event_id`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.logging import get_logger
from shared.messaging_tables import PendingMessage, claim_pending, mark_sent
from shared.metrics import EVENTS_PUBLISHED, OUTBOX_PUBLISH_FAILURES

log = get_logger(__name__)


class Publisher(Protocol):
    async def publish(self, messages: Sequence[PendingMessage]) -> None:
        """Publish all, in order, or raise."""


class ClaimedBatch(Protocol):
    messages: Sequence[PendingMessage]

    async def mark_sent(self) -> None: ...


class OutboxStore(Protocol):
    def claim(self, limit: int) -> AbstractAsyncContextManager[ClaimedBatch]: ...


@dataclass
class _PgBatch:
    session: AsyncSession
    table: Table
    messages: Sequence[PendingMessage]

    async def mark_sent(self) -> None:
        await mark_sent(self.session, self.table, [m.row_id for m in self.messages])


class PostgresOutboxStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], table: Table) -> None:
        self.sessions = sessions
        self.table = table

    @asynccontextmanager
    async def claim(self, limit: int) -> AsyncIterator[ClaimedBatch]:
        async with self.sessions() as session, session.begin():
            yield _PgBatch(session, self.table, await claim_pending(session, self.table, limit))


def next_backoff(current: float, *, base: float, ceiling: float) -> float:
    """Exponential back-off: base, 2·base, 4·base … up to the ceiling."""
    return min(ceiling, max(base, current * 2))


class OutboxRelay:
    def __init__(
        self,
        store: OutboxStore,
        publisher: Publisher,
        *,
        service: str,
        batch_size: int = 200,
        poll_seconds: float = 0.05,
        max_backoff_seconds: float = 5.0,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.service = service
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Publish soon: called after a commit that wrote outbox rows."""
        self._wake.set()

    async def relay_once(self) -> int:
        """Claim, publish and mark one batch. Returns how many were published; raises on failure."""
        async with self.store.claim(self.batch_size) as batch:
            if not batch.messages:
                return 0
            await self.publisher.publish(batch.messages)
            await batch.mark_sent()
        for message in batch.messages:
            EVENTS_PUBLISHED.labels(self.service, message.topic).inc()
        return len(batch.messages)

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 0.0
        while not stop.is_set():
            try:
                published = await self.relay_once()
                backoff = 0.0
            except Exception as exc:  # the broker or the database is down: keep everything, retry
                OUTBOX_PUBLISH_FAILURES.labels(self.service).inc()
                backoff = next_backoff(backoff, base=self.poll_seconds * 4, ceiling=self.max_backoff_seconds)
                log.warning("outbox.publish_failed", error=repr(exc), retry_in=backoff)
                await self._sleep(stop, backoff)
                continue
            if published < self.batch_size:
                await self._sleep(stop, self.poll_seconds, wakeable=True)

    async def _sleep(self, stop: asyncio.Event, seconds: float, *, wakeable: bool = False) -> None:
        waiters = [asyncio.ensure_future(stop.wait())]
        if wakeable:
            waiters.append(asyncio.ensure_future(self._wake.wait()))
        _, pending = await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        for waiter in pending:
            waiter.cancel()
        self._wake.clear()
