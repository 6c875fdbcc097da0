"""A service's running parts, built in the app lifespan: engine, producer, relay, consumers.

Everything long-running runs under one `Supervisor` (restarted with back-off when it fails). The
broker is not needed to start: topics are created and the producer started by the first task that
needs them, waiting for the broker as long as it takes, so a service whose broker is away still
serves its API (intake keeps filing complaints into its outbox).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from aiokafka import AIOKafkaProducer
from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.aio import sleep_unless
from shared.consumer import ConsumerSpec, ConsumerTuning, EventConsumer
from shared.consumer_decisions import backoff_seconds
from shared.db import create_engine, sessionmaker
from shared.events import ALL_TOPICS
from shared.housekeeping import keep_house
from shared.kafka import KafkaPublisher, ensure_topics, make_producer
from shared.logging import get_logger
from shared.messaging_tables import MessagingTables, Outbox
from shared.outbox_relay import OutboxRelay, PostgresOutboxStore
from shared.settings import ServiceSettings
from shared.supervisor import Supervisor

log = get_logger(__name__)

Hook = Callable[["Runtime"], Awaitable[None]]
Job = Callable[["Runtime", asyncio.Event], Awaitable[None]]


@dataclass(frozen=True)
class Check:
    """One dependency as readiness sees it; a failing `required` check makes the service unready."""

    name: str
    ok: bool
    detail: str = "ok"
    required: bool = True


@dataclass
class Runtime:
    settings: ServiceSettings
    tables: MessagingTables
    consumers: list[ConsumerSpec] = field(default_factory=list)
    on_start: list[Hook] = field(default_factory=list)
    background: list[Job] = field(default_factory=list)
    ready_checks: list[Callable[[], Awaitable[str | None]]] = field(default_factory=list)
    # False for a service that does useful work without the broker (intake files into its outbox).
    broker_required: bool = True
    # The service's audit log (`shared.audit`): refused attempts are written there, and `/v1/audit` reads it.
    audit: Table | None = None

    engine: AsyncEngine = field(init=False)
    sessions: async_sessionmaker[AsyncSession] = field(init=False)
    producer: AIOKafkaProducer = field(init=False)
    outbox: Outbox = field(init=False)
    relay: OutboxRelay | None = field(init=False, default=None)
    supervisor: Supervisor = field(init=False)
    _consumers: list[EventConsumer] = field(init=False, default_factory=list)
    _broker_ready: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    _broker_lock: asyncio.Lock = field(init=False, default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        s = self.settings
        self.engine = create_engine(
            s.db_url,
            pool_size=s.db_pool_size,
            statement_timeout_ms=s.db_statement_timeout_ms,
            idle_in_transaction_timeout_ms=s.db_idle_in_transaction_timeout_ms,
        )
        self.sessions = sessionmaker(self.engine)
        self.outbox = Outbox(self.tables.outbox, producer=s.service_name)
        self.supervisor = Supervisor(
            s.service_name, stable_seconds=s.task_stable_seconds, max_backoff=s.consumer_retry_max_seconds
        )

    @property
    def consumer_tuning(self) -> ConsumerTuning:
        s = self.settings
        return ConsumerTuning(
            max_attempts=s.consumer_max_attempts,
            retry_base_seconds=s.consumer_retry_base_seconds,
            retry_max_seconds=s.consumer_retry_max_seconds,
            fetch_wait_ms=s.consumer_fetch_wait_ms,
            commit_interval_seconds=s.consumer_commit_interval_seconds,
            session_timeout_ms=s.consumer_session_timeout_ms,
            heartbeat_interval_ms=s.consumer_heartbeat_interval_ms,
            max_poll_interval_ms=s.consumer_max_poll_interval_ms,
            request_timeout_ms=s.consumer_request_timeout_ms,
        )

    async def start(self) -> None:
        s = self.settings
        self.producer = make_producer(s.bootstrap_servers, client_id=s.service_name)
        self.relay = OutboxRelay(
            PostgresOutboxStore(self.engine, self.tables.outbox),
            KafkaPublisher(self.producer, max_message_bytes=s.max_message_bytes),
            service=s.service_name,
            batch_size=s.outbox_batch_size,
            idle_poll_seconds=s.outbox_idle_poll_seconds,
            linger_seconds=s.outbox_linger_seconds,
            max_backoff_seconds=s.outbox_max_backoff_seconds,
            table=self.tables.outbox,
        )
        for hook in self.on_start:
            await hook(self)
        self.supervisor.spawn("outbox-relay", self._with_broker(self.relay.run))
        self.supervisor.spawn(
            "housekeeping",
            partial(
                keep_house,
                self.engine,
                self.tables,
                service=s.service_name,
                retention=timedelta(days=s.retention_days),
                prune_every=s.prune_interval_seconds,
            ),
        )
        for spec in self.consumers:
            consumer = EventConsumer(
                spec,
                service=s.service_name,
                bootstrap_servers=s.bootstrap_servers,
                sessions=self.sessions,
                inbox=self.tables.inbox,
                dlq_producer=self.producer,
                tuning=self.consumer_tuning,
            )
            self._consumers.append(consumer)
            self.supervisor.spawn(f"consumer-{spec.group}", self._with_broker(consumer.run))
        for job in self.background:
            self.supervisor.spawn(job.__name__, partial(job, self))
        log.info("service.started", port=s.port)

    def _with_broker(
        self, run: Callable[[asyncio.Event], Awaitable[None]]
    ) -> Callable[[asyncio.Event], Awaitable[None]]:
        async def started(stop: asyncio.Event) -> None:
            if await self.wait_for_broker(stop):
                await run(stop)

        return started

    async def wait_for_broker(self, stop: asyncio.Event) -> bool:
        """Create the topics and start the producer once, waiting for the broker; False if stopped."""
        s = self.settings
        failures = 0
        while not self._broker_ready.is_set():
            if stop.is_set():
                return False
            async with self._broker_lock:
                if self._broker_ready.is_set():
                    break
                try:
                    await ensure_topics(
                        s.bootstrap_servers,
                        ALL_TOPICS,
                        partitions=s.infra.topic_partitions,
                        replication=s.infra.topic_replication,
                        attempts=1,
                    )
                    await self.producer.start()
                    self._broker_ready.set()
                    break
                except Exception as exc:
                    failures += 1
                    log.info("service.waiting_for_broker", error=repr(exc)[:200], attempt=failures)
                    try:
                        await self.producer.stop()
                    except Exception as stop_exc:
                        log.debug("service.producer_stop_failed", error=repr(stop_exc)[:200])
                    self.producer = make_producer(s.bootstrap_servers, client_id=s.service_name)
                    if self.relay is not None:
                        self.relay.publisher = KafkaPublisher(
                            self.producer, max_message_bytes=s.max_message_bytes
                        )
                    for consumer in self._consumers:
                        consumer.dlq_producer = self.producer
            await sleep_unless(stop, backoff_seconds(failures, base=0.2, ceiling=5))
        return True

    async def stop(self) -> None:
        await self.supervisor.stop()
        if self.relay is not None:
            self.relay.close()
        if self._broker_ready.is_set():
            try:
                await self.producer.stop()
            except (Exception, asyncio.CancelledError) as exc:
                log.info("service.producer_stop_failed", error=repr(exc)[:200])
        await self.engine.dispose()
        log.info("service.stopped")

    # --- health and readiness ---------------------------------------------------------------------

    def unhealthy_tasks(self) -> dict[str, float]:
        """Background tasks down longer than the grace time, with seconds down."""
        grace = self.settings.task_down_grace_seconds
        return {name: down for name, down in self.supervisor.down_for().items() if down > grace}

    async def checks(self) -> list[Check]:
        found: list[Check] = []
        try:
            async with self.engine.connect() as connection:
                await asyncio.wait_for(connection.execute(text("SELECT 1")), timeout=2)
            found.append(Check("database", True))
        except Exception as exc:
            found.append(Check("database", False, repr(exc)[:300]))
        found.append(await self._broker_check())
        for check in self.ready_checks:
            problem = await check()
            name = getattr(getattr(check, "__self__", None), "ready_name", None) or check.__name__
            found.append(Check(name, problem is None, problem or "ok"))
        down = self.supervisor.down_for()
        if down:
            detail = ", ".join(f"{name} down {seconds:.0f}s" for name, seconds in down.items())
            found.append(Check("tasks", False, detail))
        else:
            found.append(Check("tasks", True))
        return found

    async def _broker_check(self) -> Check:
        required = self.broker_required
        if not self._broker_ready.is_set():
            return Check("broker", False, "not reachable yet", required)
        try:
            started = time.monotonic()
            ok = await asyncio.wait_for(self.producer.client.force_metadata_update(), timeout=2)
            if ok:
                return Check("broker", True, f"ok ({(time.monotonic() - started) * 1000:.0f} ms)", required)
            return Check("broker", False, "metadata update failed", required)
        except Exception as exc:
            return Check("broker", False, repr(exc)[:300], required)

    async def problems(self) -> list[str]:
        """What stops this service from being ready; empty when ready."""
        return [f"{c.name}: {c.detail}" for c in await self.checks() if not c.ok and c.required]
