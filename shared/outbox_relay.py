"""The outbox relay: publishes committed outbox rows in order with acks=all and marks them sent.

**One relay at a time per outbox.** Every process of a service runs a relay, but a batch is only
claimed by the relay holding a transaction-level advisory lock on that outbox table
(`pg_try_advisory_xact_lock`); the others find it taken and try again shortly. A batch is read in id
order, published, and marked sent in that transaction, so the next batch (by whichever relay) starts
after it. With outbox ids drawn in commit order per complaint (see `messaging_tables`), every
complaint's events reach the topic in the order their transactions committed, whatever the number
of replicas. Fail-over is immediate: a relay that dies mid-batch rolls back, releasing the lock, and
the next relay publishes the batch again (consumers are idempotent on `event_id`).

**Nothing is dropped, nothing blocks.** A broker that is down raises: the transaction rolls back,
the rows stay unsent, the relay backs off. A row that can never be published (larger than the broker
takes, a topic that is gone) is set aside with its error (`failed_at`, `error`, an alert metric) and
the rows behind it flow on.

**Idle cost.** The relay sleeps until a commit in this process wrote outbox rows (`on_commit`), or
for `idle_poll_seconds` to pick up rows other processes left behind.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.consumer_decisions import backoff_seconds
from shared.logging import get_logger
from shared.messaging_tables import PENDING_WHERE, PendingMessage, on_commit
from shared.metrics import (
    EVENTS_PUBLISHED,
    OUTBOX_PUBLISH_FAILURES,
    OUTBOX_SET_ASIDE_TOTAL,
)

log = get_logger(__name__)


@dataclass(frozen=True)
class Published:
    """What a publish did: every message was sent, except those that can never be (row id → why)."""

    never: Mapping[int, str] = field(default_factory=dict)


class Publisher(Protocol):
    async def publish(self, messages: Sequence[PendingMessage]) -> Published:
        """Publish all, in order per key, or raise (nothing may be taken as sent then)."""


class ClaimedBatch(Protocol):
    messages: Sequence[PendingMessage]

    async def mark_sent(self, row_ids: Sequence[int]) -> None: ...

    async def set_aside(self, errors: Mapping[int, str]) -> None: ...


class OutboxStore(Protocol):
    def claim(self, limit: int) -> AbstractAsyncContextManager[ClaimedBatch | None]:
        """A batch of the oldest unsent rows, or None while another relay holds the outbox."""


@dataclass
class _PgBatch:
    connection: AsyncConnection
    table: Table
    messages: Sequence[PendingMessage]

    async def mark_sent(self, row_ids: Sequence[int]) -> None:
        if row_ids:
            await self.connection.exec_driver_sql(
                f"UPDATE {self.table.fullname} SET sent_at = now() WHERE id = ANY($1::bigint[])",
                (list(row_ids),),
            )

    async def set_aside(self, errors: Mapping[int, str]) -> None:
        if errors:
            await self.connection.exec_driver_sql(
                f"UPDATE {self.table.fullname} AS o SET failed_at = now(), error = u.error "
                "FROM unnest($1::bigint[], $2::text[]) AS u(id, error) WHERE o.id = u.id",
                (list(errors), [e[:2000] for e in errors.values()]),
            )


class PostgresOutboxStore:
    def __init__(self, engine: AsyncEngine, table: Table) -> None:
        self.engine = engine
        self.table = table
        self._lock_key = f"outbox-relay:{table.fullname}"
        self._select = (
            f"SELECT id, event_id, topic, key, value, headers, created_at FROM {table.fullname} "
            f"WHERE {PENDING_WHERE} ORDER BY id LIMIT $1"
        )

    @asynccontextmanager
    async def claim(self, limit: int) -> AsyncIterator[ClaimedBatch | None]:
        async with self.engine.connect() as connection, connection.begin():
            leading = await connection.exec_driver_sql(
                "SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))", (self._lock_key,)
            )
            if not leading.scalar():
                yield None
                return
            rows = await connection.exec_driver_sql(self._select, (limit,))
            yield _PgBatch(
                connection,
                self.table,
                [PendingMessage(*tuple(r)) for r in rows],
            )


class OutboxRelay:
    def __init__(
        self,
        store: OutboxStore,
        publisher: Publisher,
        *,
        service: str,
        batch_size: int = 500,
        idle_poll_seconds: float = 2.0,
        busy_retry_seconds: float = 0.02,
        max_backoff_seconds: float = 5.0,
        table: Table | None = None,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.service = service
        self.batch_size = batch_size
        self.idle_poll_seconds = idle_poll_seconds
        self.busy_retry_seconds = busy_retry_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self._wake = asyncio.Event()
        self._unsubscribe = on_commit(table, self.wake) if table is not None else None

    def wake(self) -> None:
        """Publish soon: called after a commit that wrote outbox rows."""
        self._wake.set()

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    async def relay_once(self) -> int | None:
        """Claim, publish and mark one batch. How many rows it took (published or set aside), None
        while another relay holds the outbox; raises when publishing failed (nothing marked)."""
        self._wake.clear()  # a commit from now on wakes the next round
        async with self.store.claim(self.batch_size) as batch:
            if batch is None:
                return None
            if not batch.messages:
                return 0
            result = await self.publisher.publish(batch.messages)
            sent = [m.row_id for m in batch.messages if m.row_id not in result.never]
            await batch.mark_sent(sent)
            await batch.set_aside(result.never)
        for message in batch.messages:
            if message.row_id in result.never:
                reason = result.never[message.row_id]
                OUTBOX_SET_ASIDE_TOTAL.labels(self.service, reason.split(":")[0][:60]).inc()
                log.error(
                    "outbox.row_set_aside",
                    row_id=message.row_id,
                    event_id=str(message.event_id),
                    topic=message.topic,
                    error=reason[:300],
                )
            else:
                EVENTS_PUBLISHED.labels(self.service, message.topic).inc()
        return len(batch.messages)

    async def run(self, stop: asyncio.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                taken = await self.relay_once()
                failures = 0
            except Exception as exc:  # the broker or the database is down: keep everything, retry
                failures += 1
                OUTBOX_PUBLISH_FAILURES.labels(self.service).inc()
                delay = backoff_seconds(failures, base=0.1, ceiling=self.max_backoff_seconds)
                log.warning("outbox.publish_failed", error=repr(exc)[:300], retry_in=delay)
                await self._sleep(stop, delay)
                continue
            if taken is None:
                await self._sleep(stop, self.busy_retry_seconds)
            elif taken < self.batch_size:
                await self._sleep(stop, self.idle_poll_seconds, wakeable=True)

    async def _sleep(self, stop: asyncio.Event, seconds: float, *, wakeable: bool = False) -> None:
        if stop.is_set():
            return
        deadline = time.monotonic() + seconds
        waiters = [asyncio.ensure_future(stop.wait())]
        if wakeable:
            waiters.append(asyncio.ensure_future(self._wake.wait()))
        try:
            await asyncio.wait(
                waiters, timeout=max(0.0, deadline - time.monotonic()), return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for waiter in waiters:
                waiter.cancel()
