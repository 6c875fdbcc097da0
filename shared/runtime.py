"""A service's running parts, built in the app lifespan: engine, producer, relay, consumers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.consumer import ConsumerSpec, EventConsumer
from shared.db import create_engine, sessionmaker
from shared.events import ALL_TOPICS
from shared.kafka import KafkaPublisher, ensure_topics, make_producer
from shared.logging import get_logger
from shared.messaging_tables import MessagingTables, Outbox
from shared.metrics import OUTBOX_BACKLOG
from shared.outbox_relay import OutboxRelay, PostgresOutboxStore
from shared.settings import ServiceSettings

log = get_logger(__name__)

Hook = Callable[["Runtime"], Awaitable[None]]


@dataclass
class Runtime:
    settings: ServiceSettings
    tables: MessagingTables
    consumers: list[ConsumerSpec] = field(default_factory=list)
    on_start: list[Hook] = field(default_factory=list)
    background: list[Callable[[Runtime, asyncio.Event], Awaitable[None]]] = field(default_factory=list)
    ready_checks: list[Callable[[], Awaitable[str | None]]] = field(default_factory=list)

    engine: AsyncEngine = field(init=False)
    sessions: async_sessionmaker[AsyncSession] = field(init=False)
    producer: AIOKafkaProducer = field(init=False)
    outbox: Outbox = field(init=False)
    relay: OutboxRelay | None = field(init=False, default=None)
    _stop: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(init=False, default_factory=list)
    _consumers: list[EventConsumer] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        s = self.settings
        self.engine = create_engine(s.db_url, pool_size=s.db_pool_size)
        self.sessions = sessionmaker(self.engine)
        self.outbox = Outbox(self.tables.outbox, producer=s.service_name)

    async def start(self) -> None:
        s = self.settings
        await ensure_topics(
            s.bootstrap_servers,
            ALL_TOPICS,
            partitions=s.infra.topic_partitions,
            replication=s.infra.topic_replication,
        )
        self.producer = make_producer(s.bootstrap_servers, client_id=s.service_name)
        await self.producer.start()
        self.relay = OutboxRelay(
            PostgresOutboxStore(self.sessions, self.tables.outbox),
            KafkaPublisher(self.producer),
            service=s.service_name,
            batch_size=s.outbox_batch_size,
            poll_seconds=s.outbox_poll_seconds,
            max_backoff_seconds=s.outbox_max_backoff_seconds,
        )
        for hook in self.on_start:
            await hook(self)
        relay = self.relay
        self._spawn(relay.run(self._stop), "outbox-relay")
        self._spawn(self._watch_backlog(), "outbox-backlog")
        for spec in self.consumers:
            spec.after_commit.append(relay.wake)
            consumer = EventConsumer(
                spec,
                service=s.service_name,
                bootstrap_servers=s.bootstrap_servers,
                sessions=self.sessions,
                inbox=self.tables.inbox,
                dlq_producer=self.producer,
                max_attempts=s.consumer_max_attempts,
                retry_seconds=s.consumer_retry_seconds,
            )
            await consumer.start()
            self._consumers.append(consumer)
            self._spawn(consumer.run(self._stop), f"consumer-{spec.group}")
        for job in self.background:
            self._spawn(job(self, self._stop), job.__name__)
        log.info("service.started", port=s.port)

    def _spawn(self, coro: Awaitable[None], name: str) -> None:
        async def guarded() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("service.task_crashed", task=name)
                raise

        self._tasks.append(asyncio.create_task(guarded(), name=name))

    async def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.gather(*self._tasks, return_exceptions=True), timeout=5)
        for task in self._tasks:
            task.cancel()
        # aiokafka's stop() can surface the cancellation of its own fetch tasks: still a clean stop.
        for consumer in self._consumers:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await consumer.stop()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await self.producer.stop()
        await self.engine.dispose()
        log.info("service.stopped")

    async def _watch_backlog(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(Exception):
                async with self.sessions() as session:
                    OUTBOX_BACKLOG.labels(self.settings.service_name).set(await self.outbox.backlog(session))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=5)

    async def problems(self) -> list[str]:
        """What stops this service from being ready; empty when ready."""
        found: list[str] = []
        try:
            async with self.sessions() as session:
                await asyncio.wait_for(session.execute(text("SELECT 1")), timeout=2)
        except Exception as exc:
            found.append(f"database: {exc!r}")
        try:
            ok = await asyncio.wait_for(self.producer.client.force_metadata_update(), timeout=2)
            if not ok:
                found.append("broker: metadata update failed")
        except Exception as exc:
            found.append(f"broker: {exc!r}")
        for check in self.ready_checks:
            problem = await check()
            if problem:
                found.append(problem)
        if any(t.done() for t in self._tasks):
            found.append("a background task has stopped")
        return found
