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
from typing import Any, Protocol

import orjson
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.consumer_decisions import backoff_seconds
from shared.crash_points import crash_point
from shared.db import raw_connection
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
    connection: Any  # the asyncpg connection, in the claiming transaction
    table: Table
    messages: Sequence[PendingMessage]

    async def mark_sent(self, row_ids: Sequence[int]) -> None:
        """Nothing to do: claimed rows are marked sent as they are claimed, and the mark only holds
        if the claiming transaction commits (after publishing)."""

    async def set_aside(self, errors: Mapping[int, str]) -> None:
        if errors:
            await self.connection.execute(
                f"UPDATE {self.table.fullname} AS o SET sent_at = NULL, failed_at = now(), error = u.error "
                "FROM unnest($1::bigint[], $2::text[]) AS u(id, error) WHERE o.id = u.id",
                list(errors),
                [e[:2000] for e in errors.values()],
            )


class PostgresOutboxStore:
    """Claims in one statement: take the outbox's relay lock, mark the oldest unsent rows sent and
    return them (a row saying whether the lock was taken comes first)."""

    def __init__(self, engine: AsyncEngine, table: Table) -> None:
        self.engine = engine
        self.table = table
        self._lock_key = f"outbox-relay:{table.fullname}"
        name = table.fullname
        self._claim = f"""
WITH leader AS MATERIALIZED (SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS ok),
taken AS (
    UPDATE {name} SET sent_at = now()
    WHERE id IN (SELECT id FROM {name} WHERE {PENDING_WHERE} ORDER BY id LIMIT $2)
      AND (SELECT ok FROM leader)
    RETURNING id, event_id, topic, key, value, headers, created_at
)
SELECT (SELECT ok FROM leader) AS leading, NULL::bigint AS id, NULL::uuid, NULL::text, NULL::text,
       NULL::bytea, NULL::jsonb, NULL::timestamptz
UNION ALL
SELECT NULL, * FROM taken"""

    @asynccontextmanager
    async def claim(self, limit: int) -> AsyncIterator[ClaimedBatch | None]:
        async with raw_connection(self.engine) as raw, raw.transaction():
            rows = await raw.fetch(self._claim, self._lock_key, limit)
            if not rows or not rows[0][0]:
                yield None
                return
            messages = sorted(
                (PendingMessage(r[1], r[2], r[3], r[4], r[5], _headers(r[6]), r[7]) for r in rows[1:]),
                key=lambda m: m.row_id,
            )
            yield _PgBatch(raw, self.table, messages)


def _headers(value: Any) -> dict[str, str]:
    return orjson.loads(value) if isinstance(value, str | bytes) else dict(value or {})


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
        linger_seconds: float = 0.0,
        max_backoff_seconds: float = 5.0,
        table: Table | None = None,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.service = service
        self.batch_size = batch_size
        self.idle_poll_seconds = idle_poll_seconds
        self.busy_retry_seconds = busy_retry_seconds
        # After a wake, wait this long so that the commits of a busy moment share one batch.
        self.linger_seconds = linger_seconds
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
            crash_point("relay.after_publish")
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
                woken = await self._sleep(stop, self.idle_poll_seconds, wakeable=True)
                if woken and self.linger_seconds:
                    await self._sleep(stop, self.linger_seconds)

    async def _sleep(self, stop: asyncio.Event, seconds: float, *, wakeable: bool = False) -> bool:
        """Sleep; True when a wake (not the time or the stop) ended it."""
        if stop.is_set():
            return False
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
        return self._wake.is_set() and not stop.is_set()
