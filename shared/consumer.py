"""The consumer loop: one DB transaction per message, inbox dedupe, offsets committed after it.

For each message: decode the envelope; if no handler wants its type, skip it; otherwise, in one
transaction, record its `event_id` in the inbox (a redelivery stops here) and run the handler. The
offset is committed only after that transaction. A message that cannot be decoded, has an
unknown version, or keeps failing goes to `<topic>.dlq` with the error and source offset in
headers, and its partition keeps flowing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.consumer_decisions import Action, dlq_headers, on_failure
from shared.events import Envelope, Payload, dlq_topic, parse_payload, utcnow
from shared.logging import get_logger
from shared.messaging_tables import first_time_seen
from shared.metrics import DEAD_LETTERED, EVENT_HANDLE_SECONDS, EVENT_LAG_SECONDS, EVENTS_CONSUMED

log = get_logger(__name__)

Handler = Callable[[AsyncSession, Any, Envelope], Awaitable[None]]


@dataclass
class ConsumerSpec:
    """A consumer group: which topics, and which handler for each event type."""

    group: str
    topics: list[str]
    handlers: Mapping[str, Handler]
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    # Events this consumer ignores without opening a transaction (e.g. stages it does not show).
    wants: Callable[[Envelope], bool] | None = None


class EventConsumer:
    def __init__(
        self,
        spec: ConsumerSpec,
        *,
        service: str,
        bootstrap_servers: str,
        sessions: async_sessionmaker[AsyncSession],
        inbox: Table,
        dlq_producer: AIOKafkaProducer,
        max_attempts: int = 3,
        retry_seconds: float = 0.2,
    ) -> None:
        self.spec = spec
        self.service = service
        self.bootstrap_servers = bootstrap_servers
        self.sessions = sessions
        self.inbox = inbox
        self.dlq_producer = dlq_producer
        self.max_attempts = max_attempts
        self.retry_seconds = retry_seconds
        self.consumer: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        self.consumer = AIOKafkaConsumer(
            *self.spec.topics,
            bootstrap_servers=self.bootstrap_servers,
            group_id=self.spec.group,
            client_id=f"{self.service}-{self.spec.group}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=500,
            session_timeout_ms=10000,
            heartbeat_interval_ms=1000,
            fetch_max_wait_ms=100,
        )
        await self.consumer.start()

    async def stop(self) -> None:
        if self.consumer is not None:
            await self.consumer.stop()

    async def run(self, stop: asyncio.Event) -> None:
        assert self.consumer is not None
        while not stop.is_set():
            try:
                batch = await self.consumer.getmany(timeout_ms=200)
            except Exception as exc:
                log.warning("consumer.poll_failed", group=self.spec.group, error=repr(exc))
                await asyncio.sleep(1)
                continue
            if batch:
                await self.process_batch(batch)

    async def process_batch(self, batch: Mapping[TopicPartition, list[ConsumerRecord]]) -> None:
        """Partitions are processed concurrently, each in order; offsets committed after."""
        await asyncio.gather(*(self._process_partition(tp, records) for tp, records in batch.items()))

    async def _process_partition(self, tp: TopicPartition, records: list[ConsumerRecord]) -> None:
        assert self.consumer is not None
        for record in records:
            await self.process(record)
        await self.consumer.commit({tp: records[-1].offset + 1})

    async def process(self, record: ConsumerRecord) -> str:
        """Handle one record to completion (done, duplicate, skipped or dead-lettered)."""
        try:
            envelope = Envelope.from_bytes(record.value)
        except Exception as exc:
            await self._dead_letter(record, f"undecodable: {exc!r}", reason="undecodable")
            return "dead_lettered"
        handler = self.spec.handlers.get(envelope.type)
        if handler is None or (self.spec.wants is not None and not self.spec.wants(envelope)):
            EVENTS_CONSUMED.labels(self.service, record.topic, envelope.type, "skipped").inc()
            return "skipped"
        structlog.contextvars.bind_contextvars(
            correlation_id=envelope.correlation_id, event_type=envelope.type
        )
        try:
            return await self._handle(record, envelope, handler)
        finally:
            structlog.contextvars.unbind_contextvars("correlation_id", "event_type")

    async def _handle(self, record: ConsumerRecord, envelope: Envelope, handler: Handler) -> str:
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                payload = parse_payload(envelope)
                outcome = await self._apply(envelope, payload, handler)
            except Exception as exc:
                decision = on_failure(exc, attempt=attempt, max_attempts=self.max_attempts)
                log.warning(
                    "consumer.handler_failed",
                    group=self.spec.group,
                    attempt=attempt,
                    error=repr(exc),
                    action=decision.action.value,
                )
                if decision.action is Action.DEAD_LETTER:
                    await self._dead_letter(record, f"{decision.reason}: {exc!r}", reason=decision.reason)
                    return "dead_lettered"
                await asyncio.sleep(self.retry_seconds * attempt)
                continue
            EVENT_HANDLE_SECONDS.labels(self.service, envelope.type).observe(time.perf_counter() - started)
            EVENT_LAG_SECONDS.labels(self.service, envelope.type).observe(
                (utcnow() - envelope.occurred_at).total_seconds()
            )
            EVENTS_CONSUMED.labels(self.service, record.topic, envelope.type, outcome).inc()
            return outcome

    async def _apply(self, envelope: Envelope, payload: Payload, handler: Handler) -> str:
        async with self.sessions() as session, session.begin():
            if not await first_time_seen(
                session,
                self.inbox,
                consumer=self.spec.group,
                event_id=envelope.event_id,
                event_type=envelope.type,
            ):
                return "duplicate"
            await handler(session, payload, envelope)
        for callback in self.spec.after_commit:
            callback()
        return "handled"

    async def _dead_letter(self, record: ConsumerRecord, error: str, *, reason: str) -> None:
        headers = dlq_headers(
            error=error,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            group=self.spec.group,
        )
        await self.dlq_producer.send_and_wait(
            dlq_topic(record.topic), record.value, key=record.key, headers=headers
        )
        DEAD_LETTERED.labels(self.service, record.topic, reason.split(":")[0][:60]).inc()
        EVENTS_CONSUMED.labels(self.service, record.topic, "unknown", "dead_lettered").inc()
        log.error(
            "consumer.dead_lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error=error[:500],
        )
