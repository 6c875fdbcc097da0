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
    COMMITS_SKIPPED,
    CONSUMER_BATCH_SIZE,
    CONSUMER_LAG,
    CONSUMER_PAUSED,
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


@dataclass
class _Paused:
    resume_at: float
    failures: int


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
        self._owned: set[TopicPartition] = set()
        self._epoch: dict[TopicPartition, int] = defaultdict(int)
        self._committed: dict[TopicPartition, int] = {}
        self._deferred: dict[TopicPartition, tuple[int, float]] = {}  # offset, not before
        self._staged: dict[TopicPartition, tuple[int, int]] = {}  # offset, epoch: committed soon
        self._last_commit = 0.0
        self._paused: dict[TopicPartition, _Paused] = {}
        self._transient_failures: dict[TopicPartition, int] = defaultdict(int)
        self._attempts: dict[tuple[TopicPartition, int], int] = {}
        self._position: dict[TopicPartition, int] = {}
        self._last_handled = time.monotonic()
        self._lag_updated = 0.0
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
                self._resume_due()
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
                await self._commit_deferred()
                if self._commit_due():
                    await self._flush_staged()
                fetched = {
                    tp: rs for tp, rs in fetched.items() if tp in self._owned and tp not in self._paused
                }
                if fetched:
                    await self.handle(fetched, started=started)
                self._update_gauges()
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._flush_staged(), timeout=5)
            self.consumer = None
            try:
                await consumer.stop()
            except (Exception, asyncio.CancelledError) as exc:  # a clean stop despite aiokafka's own tasks
                log.info("consumer.stop_error", group=self.spec.group, error=repr(exc)[:200])
            for tp in list(self._owned):
                self._forget(tp)

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
                self.consumer = consumer
                return consumer
            except Exception as exc:
                failures += 1
                log.info("consumer.waiting_for_broker", group=self.spec.group, error=repr(exc)[:200])
                with contextlib.suppress(Exception):  # it never started
                    await consumer.stop()
                await sleep_unless(stop, backoff_seconds(failures, base=0.2, ceiling=5))
        return None

    def _poll_timeout_ms(self) -> int:
        timeout = self.tuning.poll_timeout_ms
        if self._paused:
            soonest = min(p.resume_at for p in self._paused.values()) - time.monotonic()
            timeout = min(timeout, max(10, int(soonest * 1000)))
        return timeout

    # --- one round ----------------------------------------------------------------------------------

    async def handle(
        self, fetched: Mapping[TopicPartition, Sequence[ConsumerRecord]], *, started: float
    ) -> None:
        """Handle one fetch (see the module docstring) and commit what was done."""
        epochs = {tp: self._epoch[tp] for tp in fetched}
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
                    self._pause(tp, ds[0].offset, transient=True)
                return
            self._log_failure(exc, "batch_split", len(wanted))
            for tp, ds in deliveries.items():
                done_to = await self._one_by_one(tp, ds)
                if done_to is not None:
                    done[tp] = done_to
        for tp in list(done):
            done[tp] = await self._dead_letter_until(deliveries[tp], done[tp])
            self._position[tp] = done[tp]
        await self._commit(done, epochs=epochs, started=started)

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
                attempt = self._attempts[key] = self._attempts.get(key, 0) + 1
                decision = on_failure(exc, attempt=attempt, max_attempts=self.tuning.max_attempts)
                self._log_failure(exc, decision.action.value, 1, attempt=attempt, offset=d.offset)
                if decision.action is Action.DEAD_LETTER:
                    self._attempts.pop(key, None)
                    d.poison, d.reason = f"{decision.reason}: {exc!r}"[:1000], decision.reason.split(":")[0]
                    done_to = d.offset + 1
                    continue
                self._pause(tp, d.offset, transient=decision.action is Action.PAUSE, failures=attempt)
                return done_to
            self._attempts.pop(key, None)
            done_to = d.offset + 1
        self._transient_failures.pop(tp, None)
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
                self._pause(d.tp, d.offset, transient=True)
                return d.offset
        if done_to > deliveries[0].offset:
            self._transient_failures.pop(deliveries[0].tp, None)
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

    # --- pausing --------------------------------------------------------------------------------------

    def _pause(
        self, tp: TopicPartition, offset: int, *, transient: bool, failures: int | None = None
    ) -> None:
        """Stop fetching the partition and come back to `offset` after a back-off."""
        if self.consumer is None or tp not in self._owned:
            return
        if transient:
            self._transient_failures[tp] += 1
            failures = self._transient_failures[tp]
        delay = backoff_seconds(
            failures or 1, base=self.tuning.retry_base_seconds, ceiling=self.tuning.retry_max_seconds
        )
        self.consumer.seek(tp, offset)
        self.consumer.pause(tp)
        self._paused[tp] = _Paused(time.monotonic() + delay, failures or 1)
        CONSUMER_PAUSED.labels(self.service, self.spec.group).set(len(self._paused))

    def _resume_due(self) -> None:
        if not self._paused or self.consumer is None:
            return
        now = time.monotonic()
        due = [tp for tp, p in self._paused.items() if p.resume_at <= now]
        for tp in due:
            del self._paused[tp]
            if tp in self._owned:
                self.consumer.resume(tp)
        if due:
            CONSUMER_PAUSED.labels(self.service, self.spec.group).set(len(self._paused))

    # --- offsets ----------------------------------------------------------------------------------------

    @property
    def _trusted_seconds(self) -> float:
        """A round longer than this may have outlived our membership of the group."""
        t = self.tuning
        limit = min(t.session_timeout_ms, t.max_poll_interval_ms) / 1000
        return max(0.5, limit - 2 * t.heartbeat_interval_ms / 1000)

    async def _commit(
        self, done: Mapping[TopicPartition, int], *, epochs: Mapping[TopicPartition, int], started: float
    ) -> None:
        if not done or self.consumer is None:
            return
        stale = time.monotonic() - started > self._trusted_seconds
        settle = time.monotonic() + 2 * self.tuning.heartbeat_interval_ms / 1000
        for tp, offset in done.items():
            if stale or tp not in self._owned or self._epoch[tp] != epochs.get(tp):
                reason = "stale_round" if stale else "revoked"
                COMMITS_SKIPPED.labels(self.service, self.spec.group, reason).inc()
                previous = self._deferred.get(tp, (-1, 0.0))[0]
                self._deferred[tp] = (max(offset, previous), settle)
                continue
            self._staged[tp] = (max(offset, self._staged.get(tp, (-1, 0))[0]), self._epoch[tp])
        if self._commit_due():
            await self._flush_staged()

    def _commit_due(self) -> bool:
        return bool(self._staged) and (
            time.monotonic() - self._last_commit >= self.tuning.commit_interval_seconds
        )

    async def _flush_staged(self, only: set[TopicPartition] | None = None) -> None:
        """Commit the staged offsets of partitions still ours since they were staged."""
        self._last_commit = time.monotonic()
        ready: dict[TopicPartition, int] = {}
        for tp, (offset, epoch) in list(self._staged.items()):
            if only is not None and tp not in only:
                continue
            del self._staged[tp]
            if tp in self._owned and self._epoch[tp] == epoch:
                ready[tp] = offset
        await self._commit_if_ahead(ready, verify=False)

    async def _commit_deferred(self) -> None:
        """Offsets of rounds whose ownership was in doubt: committed once the partition is ours and the
        broker's committed offset is behind them."""
        if not self._deferred:
            return
        now = time.monotonic()
        ready = {
            tp: off
            for tp, (off, not_before) in self._deferred.items()
            if tp in self._owned and now >= not_before
        }
        for tp in ready:
            del self._deferred[tp]
        await self._commit_if_ahead(ready, verify=True)

    async def _commit_if_ahead(self, offsets: Mapping[TopicPartition, int], *, verify: bool) -> None:
        consumer = self.consumer
        if not offsets or consumer is None:
            return
        ahead: dict[TopicPartition, int] = {}
        for tp, offset in offsets.items():
            try:
                known = None if verify else self._committed.get(tp)
                if known is None:
                    known = await consumer.committed(tp) or 0
                    self._committed[tp] = known
            except Exception as exc:
                log.warning("consumer.committed_unknown", group=self.spec.group, error=repr(exc)[:200])
                self._deferred[tp] = (offset, time.monotonic() + 1)
                continue
            if offset <= known:
                COMMITS_SKIPPED.labels(self.service, self.spec.group, "not_ahead").inc()
                continue
            ahead[tp] = offset
        if not ahead:
            return
        try:
            await consumer.commit(ahead)
        except Exception as exc:  # rebalanced, not assigned, broker away: commit later or re-process
            log.warning("consumer.commit_failed", group=self.spec.group, error=repr(exc)[:300])
            settle = time.monotonic() + 2 * self.tuning.heartbeat_interval_ms / 1000
            for tp, offset in ahead.items():
                self._deferred[tp] = (offset, settle)
            return
        self._committed.update(ahead)

    # --- rebalances ---------------------------------------------------------------------------------------

    async def revoked(self, partitions: set[TopicPartition]) -> None:
        """Before the partitions go: commit what was done on them (still ours in this generation)."""
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._flush_staged(only=partitions), timeout=5)
        for tp in partitions:
            self._forget(tp)

    def assigned(self, partitions: set[TopicPartition]) -> None:
        for tp in partitions:
            self._owned.add(tp)
            self._committed.pop(tp, None)  # read again before the first commit
            self._paused.pop(tp, None)
            self._position.pop(tp, None)
        log.info("consumer.assigned", group=self.spec.group, partitions=len(self._owned))

    def _forget(self, tp: TopicPartition) -> None:
        self._owned.discard(tp)
        self._staged.pop(tp, None)
        self._epoch[tp] += 1
        self._committed.pop(tp, None)
        self._paused.pop(tp, None)
        self._transient_failures.pop(tp, None)
        self._position.pop(tp, None)
        for key in [k for k in self._attempts if k[0] == tp]:
            del self._attempts[key]
        with contextlib.suppress(KeyError):
            CONSUMER_LAG.remove(self.service, self.spec.group, tp.topic, str(tp.partition))
        CONSUMER_PAUSED.labels(self.service, self.spec.group).set(len(self._paused))

    def _update_gauges(self) -> None:
        now = time.monotonic()
        if self.consumer is None or now - self._lag_updated < 1:
            return
        self._lag_updated = now
        for tp in self._owned:
            highwater = self.consumer.highwater(tp)
            position = self._position.get(tp, self._committed.get(tp))
            if highwater is not None and position is not None:
                CONSUMER_LAG.labels(self.service, self.spec.group, tp.topic, str(tp.partition)).set(
                    max(0, highwater - position)
                )

    @property
    def owned(self) -> frozenset[TopicPartition]:
        return frozenset(self._owned)


class _Listener(ConsumerRebalanceListener):
    def __init__(self, owner: EventConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.owner.revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.owner.assigned(set(assigned))
