"""The consumer loop: batches in one transaction, inbox dedupe, offsets committed after, never dies.

Each round fetches what the broker has (long poll) and handles it:

1. decode every record; an undecodable one, an unknown version or an invalid payload is poison
   (DLQ); events no handler wants are skipped without a transaction;
2. run the spec's `prepare` hook outside any transaction (e.g. refresh a stale registry copy);
3. in **one** transaction: record the batch's `event_id`s in the inbox in one statement, run the
   handler of each event seen for the first time, in offset order, and commit;
4. send the poison records to `<topic>.dlq` (headers: error, source topic/partition/offset);
5. commit the offsets — only for partitions still owned since the fetch, never lower than the
   committed one, and not at all when the round took so long that the group may have moved on
   (then it is retried once the group is known to be ours again).

A failed round is classified (`consumer_decisions`): a transient fault pauses the partitions and
retries them with back-off for ever; anything else splits the round into one transaction per
message, so only the message at fault is retried a bounded number of times and then dead-lettered
while the rest flows. Commit failures, poll failures and rebalances never end the loop; a rejoin
re-delivers what was not committed and the inbox makes that harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.aio import sleep_unless
from shared.consumer_decisions import Action, backoff_seconds, classify, dlq_headers, on_failure
from shared.consumer_partitions import PartitionBook
from shared.events import (
    Envelope,
    Payload,
    UndecodableEvent,
    UnknownEventVersion,
    dlq_topic,
    parse_payload,
    utcnow,
)
from shared.logging import get_logger
from shared.messaging_tables import first_seen
from shared.metrics import (
    CONSUMER_BATCH_SIZE,
    CONSUMER_RETRIES,
    CONSUMER_SINCE_HANDLED,
    DEAD_LETTERED,
    EVENT_HANDLE_SECONDS,
    EVENT_LAG_SECONDS,
    EVENTS_CONSUMED,
)

log = get_logger(__name__)

Handler = Callable[[AsyncSession, Any, Envelope], Awaitable[None]]
HandlerTable = Mapping[type[Payload] | str, Handler]


@dataclass
class Delivery:
    """One fetched record on its way through a round."""

    tp: TopicPartition
    record: ConsumerRecord
    envelope: Envelope | None = None
    payload: Payload | None = None
    handler: Handler | None = None
    poison: str | None = None  # why it goes to the DLQ
    reason: str = ""  # the DLQ metric's reason label

    @property
    def offset(self) -> int:
        return int(self.record.offset)


@dataclass
class ConsumerSpec:
    """A consumer group: which topics, and which handler for each event (class or type name)."""

    group: str
    topics: list[str]
    handlers: HandlerTable
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    # Events this consumer ignores without opening a transaction (e.g. stages it does not show).
    wants: Callable[[Envelope], bool] | None = None
    # Run before a batch's transaction opens, with the events about to be handled.
    prepare: Callable[[Sequence[Delivery]], Awaitable[None]] | None = None

    def handler_table(self) -> dict[str, Handler]:
        return {key if isinstance(key, str) else key.TYPE: h for key, h in self.handlers.items()}


@dataclass(frozen=True)
class ConsumerTuning:
    max_attempts: int = 5  # for errors that are neither transient nor permanent
    retry_base_seconds: float = 0.5
    retry_max_seconds: float = 30.0
    fetch_wait_ms: int = 100  # the broker holds an empty fetch this long (the idle cost)
    poll_timeout_ms: int = 1000
    max_poll_records: int = 500
    session_timeout_ms: int = 10000
    heartbeat_interval_ms: int = 1000
    max_poll_interval_ms: int = 300000
    request_timeout_ms: int = 40000
    # Offsets are committed at most this often (and when partitions are revoked or the consumer
    # stops): a crash re-delivers at most this much, which the inbox absorbs.
    commit_interval_seconds: float = 1.0


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
        tuning: ConsumerTuning | None = None,
    ) -> None:
        self.spec = spec
        self.service = service
        self.bootstrap_servers = bootstrap_servers
        self.sessions = sessions
        self.inbox = inbox
        self.dlq_producer = dlq_producer
        self.tuning = tuning or ConsumerTuning()
        self.handlers = spec.handler_table()
        self.consumer: AIOKafkaConsumer | None = None
        self.book = PartitionBook(service=service, group=spec.group, tuning=self.tuning)
        self._last_handled = time.monotonic()
        CONSUMER_SINCE_HANDLED.labels(service, spec.group).set_function(
            lambda: time.monotonic() - self._last_handled
        )

    # --- the loop ---------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set. Waits for the broker rather than failing."""
        consumer = await self._connect(stop)
        if consumer is None:
            return
        try:
            failures = 0
            while not stop.is_set():
                self.book.resume_due()
                started = time.monotonic()
                try:
                    fetched = await consumer.getmany(
                        timeout_ms=self._poll_timeout_ms(), max_records=self.tuning.max_poll_records
                    )
                    failures = 0
                except Exception as exc:  # coordination errors, the broker away: wait and rejoin
                    failures += 1
                    log.warning("consumer.poll_failed", group=self.spec.group, error=repr(exc)[:300])
                    await sleep_unless(stop, backoff_seconds(failures, base=0.2, ceiling=5))
                    continue
                await self.book.commit_deferred()
                if self.book.commit_due():
                    await self.book.flush_staged()
                fetched = {
                    tp: rs for tp, rs in fetched.items() if self.book.owns(tp) and tp not in self.book.paused
                }
                if fetched:
                    await self.handle(fetched, started=started)
                self.book.update_gauges()
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.book.flush_staged(), timeout=5)
            self.consumer = self.book.consumer = None
            try:
                await consumer.stop()
            except (Exception, asyncio.CancelledError) as exc:  # a clean stop despite aiokafka's own tasks
                log.info("consumer.stop_error", group=self.spec.group, error=repr(exc)[:200])
            for tp in list(self.book.owned):
                self.book.forget(tp)

    async def _connect(self, stop: asyncio.Event) -> AIOKafkaConsumer | None:
        t = self.tuning
        failures = 0
        while not stop.is_set():
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap_servers,
                group_id=self.spec.group,
                client_id=f"{self.service}-{self.spec.group}",
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                max_poll_records=t.max_poll_records,
                session_timeout_ms=t.session_timeout_ms,
                heartbeat_interval_ms=t.heartbeat_interval_ms,
                max_poll_interval_ms=t.max_poll_interval_ms,
                request_timeout_ms=t.request_timeout_ms,
                fetch_max_wait_ms=t.fetch_wait_ms,
            )
            try:
                await consumer.start()
                consumer.subscribe(self.spec.topics, listener=_Listener(self))
                self.consumer = self.book.consumer = consumer
                return consumer
            except Exception as exc:
                failures += 1
                log.info("consumer.waiting_for_broker", group=self.spec.group, error=repr(exc)[:200])
                with contextlib.suppress(Exception):  # it never started
                    await consumer.stop()
                await sleep_unless(stop, backoff_seconds(failures, base=0.2, ceiling=5))
        return None

    def _poll_timeout_ms(self) -> int:
        return self.book.poll_timeout_ms(self.tuning.poll_timeout_ms)

    # --- one round ----------------------------------------------------------------------------------

    async def handle(
        self, fetched: Mapping[TopicPartition, Sequence[ConsumerRecord]], *, started: float
    ) -> None:
        """Handle one fetch (see the module docstring) and commit what was done."""
        epochs = {tp: self.book.epoch[tp] for tp in fetched}
        deliveries = {tp: [self._decode(tp, r) for r in records] for tp, records in fetched.items()}
        wanted = [d for ds in deliveries.values() for d in ds if d.handler is not None and d.poison is None]
        done: dict[TopicPartition, int] = {}
        try:
            if wanted:
                await self._apply(wanted)
            done = {tp: ds[-1].offset + 1 for tp, ds in deliveries.items()}
        except Exception as exc:
            kind = classify(exc)
            CONSUMER_RETRIES.labels(self.service, self.spec.group, kind.value).inc()
            if on_failure(exc, attempt=1, max_attempts=self.tuning.max_attempts).action is Action.PAUSE:
                self._log_failure(exc, "batch", len(wanted))
                for tp, ds in deliveries.items():
                    self.book.pause(tp, ds[0].offset, transient=True)
                return
            self._log_failure(exc, "batch_split", len(wanted))
            for tp, ds in deliveries.items():
                done_to = await self._one_by_one(tp, ds)
                if done_to is not None:
                    done[tp] = done_to
        for tp in list(done):
            done[tp] = await self._dead_letter_until(deliveries[tp], done[tp])
            self.book.position[tp] = done[tp]
        await self.book.stage(done, epochs=epochs, started=started)

    def _decode(self, tp: TopicPartition, record: ConsumerRecord) -> Delivery:
        delivery = Delivery(tp, record)
        try:
            delivery.envelope = envelope = Envelope.decode(record.value)
            handler = self.handlers.get(envelope.type)
            if handler is None or (self.spec.wants is not None and not self.spec.wants(envelope)):
                EVENTS_CONSUMED.labels(self.service, record.topic, envelope.type, "skipped").inc()
                return delivery
            delivery.payload = parse_payload(envelope)
            delivery.handler = handler
        except UndecodableEvent as exc:
            delivery.poison, delivery.reason = f"undecodable: {exc}", "undecodable"
        except UnknownEventVersion as exc:
            delivery.poison, delivery.reason = f"unknown version: {exc}", "unknown_version"
        except ValueError as exc:  # the payload does not validate against its model
            delivery.poison, delivery.reason = f"invalid payload: {exc!r}"[:1000], "invalid_payload"
        return delivery

    async def _apply(self, batch: Sequence[Delivery]) -> None:
        """Prepare, then one transaction: inbox, handlers, commit."""
        if self.spec.prepare is not None:
            await self.spec.prepare(batch)
        began = time.perf_counter()
        handled: set[int] = set()
        async with self.sessions() as session, session.begin():
            events = [(d.envelope.event_id, d.envelope.type) for d in batch if d.envelope is not None]
            new = await first_seen(session, self.inbox, consumer=self.spec.group, events=events)
            for i, d in enumerate(batch):
                assert d.envelope is not None and d.handler is not None
                if d.envelope.event_id not in new:
                    continue
                new.discard(d.envelope.event_id)  # the same event twice in one batch: handled once
                structlog.contextvars.bind_contextvars(
                    correlation_id=d.envelope.correlation_id, event_type=d.envelope.type
                )
                try:
                    await d.handler(session, d.payload, d.envelope)
                finally:
                    structlog.contextvars.unbind_contextvars("correlation_id", "event_type")
                handled.add(i)
        for callback in self.spec.after_commit:
            callback()
        self._last_handled = time.monotonic()
        self._observe(batch, time.perf_counter() - began, handled=handled)

    def _observe(self, batch: Sequence[Delivery], seconds: float, *, handled: set[int]) -> None:
        CONSUMER_BATCH_SIZE.labels(self.service, self.spec.group).observe(len(batch))
        now = utcnow()
        per_event = seconds / max(1, len(batch))
        outcomes: dict[tuple[str, str, str], int] = defaultdict(int)
        for i, d in enumerate(batch):
            assert d.envelope is not None
            EVENT_HANDLE_SECONDS.labels(self.service, d.envelope.type).observe(per_event)
            EVENT_LAG_SECONDS.labels(self.service, d.envelope.type).observe(
                (now - d.envelope.occurred_at).total_seconds()
            )
            outcomes[(d.record.topic, d.envelope.type, "handled" if i in handled else "duplicate")] += 1
        for (topic, type_, outcome), n in outcomes.items():
            EVENTS_CONSUMED.labels(self.service, topic, type_, outcome).inc(n)

    async def _one_by_one(self, tp: TopicPartition, deliveries: Sequence[Delivery]) -> int | None:
        """Handle a partition's records each in its own transaction; the next offset to commit, or
        None when nothing could be done (the partition is paused at the failing record)."""
        done_to: int | None = None
        for d in deliveries:
            if d.handler is None or d.poison is not None:
                done_to = d.offset + 1
                continue
            key = (tp, d.offset)
            try:
                await self._apply([d])
            except Exception as exc:
                attempt = self.book.attempts[key] = self.book.attempts.get(key, 0) + 1
                decision = on_failure(exc, attempt=attempt, max_attempts=self.tuning.max_attempts)
                self._log_failure(exc, decision.action.value, 1, attempt=attempt, offset=d.offset)
                if decision.action is Action.DEAD_LETTER:
                    self.book.attempts.pop(key, None)
                    d.poison, d.reason = f"{decision.reason}: {exc!r}"[:1000], decision.reason.split(":")[0]
                    done_to = d.offset + 1
                    continue
                self.book.pause(tp, d.offset, transient=decision.action is Action.PAUSE, failures=attempt)
                return done_to
            self.book.attempts.pop(key, None)
            done_to = d.offset + 1
        self.book.transient_failures.pop(tp, None)
        return done_to

    async def _dead_letter_until(self, deliveries: Sequence[Delivery], done_to: int) -> int:
        """Send the poison records before `done_to` to the DLQ; the offset it is safe to commit."""
        for d in deliveries:
            if d.offset >= done_to:
                break
            if d.poison is None:
                continue
            try:
                await self._dead_letter(d)
            except Exception as exc:
                self._log_failure(exc, "dlq_send", 1, offset=d.offset)
                self.book.pause(d.tp, d.offset, transient=True)
                return d.offset
        if done_to > deliveries[0].offset:
            self.book.transient_failures.pop(deliveries[0].tp, None)
        return done_to

    async def _dead_letter(self, d: Delivery) -> None:
        record = d.record
        headers = dlq_headers(
            error=d.poison or "",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            group=self.spec.group,
        )
        original = [(k, v) for k, v in (record.headers or ()) if not k.startswith("x-")]
        await self.dlq_producer.send_and_wait(
            dlq_topic(record.topic), record.value, key=record.key, headers=original + headers
        )
        DEAD_LETTERED.labels(self.service, record.topic, d.reason[:60] or "unknown").inc()
        EVENTS_CONSUMED.labels(
            self.service, record.topic, d.envelope.type if d.envelope else "unknown", "dead_lettered"
        ).inc()
        log.error(
            "consumer.dead_lettered",
            group=self.spec.group,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error=(d.poison or "")[:500],
        )

    def _log_failure(self, exc: BaseException, action: str, size: int, **fields: Any) -> None:
        log.warning(
            "consumer.handle_failed",
            group=self.spec.group,
            action=action,
            kind=classify(exc).value,
            messages=size,
            error=repr(exc)[:500],
            **fields,
        )


class _Listener(ConsumerRebalanceListener):
    def __init__(self, owner: EventConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.owner.book.revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.owner.book.assigned(set(assigned))
