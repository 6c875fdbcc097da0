"""Broker plumbing: producers, topic creation and the Kafka publisher used by the outbox relay."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    InvalidTopicError,
    KafkaConnectionError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    TopicAlreadyExistsError,
    UnknownTopicOrPartitionError,
)
from aiokafka.partitioner import DefaultPartitioner

from shared.events import dlq_topic
from shared.logging import get_logger
from shared.messaging_tables import PendingMessage
from shared.outbox_relay import Published

log = get_logger(__name__)


async def read_from_start(
    bootstrap_servers: str, topics: Sequence[str], *, quiet_seconds: float = 1.5, within: float | None = None
) -> dict[TopicPartition, list[Any]]:
    """Every record of the topics, from offset 0 to their end, each partition's in order.

    Some Kafka-protocol brokers answer ListOffsets (earliest as well as latest), and at times a
    fetch's high watermark, with a stale offset; so reading starts at offset 0 and ends when every
    partition is past each end it was told of and nothing more came for `quiet_seconds` (or when
    `within` seconds have passed). Records written meanwhile are read too."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        await consumer.topics()  # the cluster's metadata, which partitions_for_topic reads
        parts = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
        found: dict[TopicPartition, list[Any]] = {tp: [] for tp in parts}
        if not parts:
            return found
        consumer.assign(parts)
        listed = await consumer.end_offsets(parts)
        for tp in parts:
            consumer.seek(tp, 0)
        started = quiet_since = time.monotonic()
        while within is None or time.monotonic() - started < within:
            batch = await consumer.getmany(*parts, timeout_ms=250, max_records=5000)
            for tp, records in batch.items():
                found[tp].extend(records)
            if any(batch.values()):
                quiet_since = time.monotonic()
                continue
            ends = {tp: max(listed[tp], consumer.highwater(tp) or 0) for tp in parts}
            behind = [tp for tp in parts if (await consumer.position(tp)) < ends[tp]]
            if not behind and time.monotonic() - quiet_since >= quiet_seconds:
                break
        return found
    finally:
        with contextlib.suppress(Exception):
            await consumer.stop()


def make_producer(bootstrap_servers: str, *, client_id: str) -> AIOKafkaProducer:
    # acks=all and no reliance on idempotence: duplicates are absorbed by consumers' inboxes.
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=False,
        linger_ms=2,
        request_timeout_ms=10000,
        max_batch_size=1 << 20,
    )


def topics_with_dlqs(topics: Iterable[str]) -> list[str]:
    return [name for topic in topics for name in (topic, dlq_topic(topic))]


async def ensure_topics(
    bootstrap_servers: str,
    topics: Iterable[str],
    *,
    partitions: int,
    replication: int = 1,
    attempts: int = 30,
) -> None:
    """Create the topics (and their DLQs) if missing, waiting for the broker to come up."""
    wanted = topics_with_dlqs(topics)
    for attempt in range(1, attempts + 1):
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="whistle-admin")
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [t for t in wanted if t not in existing]
            if missing:
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics(
                        [
                            NewTopic(t, num_partitions=partitions, replication_factor=replication)
                            for t in missing
                        ]
                    )
                log.info("kafka.topics_created", topics=missing, partitions=partitions)
            return
        except Exception as exc:
            if attempt == attempts:
                raise
            log.info("kafka.waiting_for_broker", error=repr(exc), attempt=attempt)
            await asyncio.sleep(min(2.0, 0.2 * attempt))
        finally:
            await admin.close()


class KafkaPublisher:
    """Publishes outbox rows as one record batch per partition, so that a batch lands whole or not
    at all and the next round only starts after every batch of this one was acknowledged: the order
    of each key's messages on its partition is the order of the rows, duplicates after a failure
    included. A message larger than the broker takes, or for a topic the broker does not know, is
    reported as never publishable instead of blocking the rows behind it."""

    def __init__(self, producer: AIOKafkaProducer, *, max_message_bytes: int = 1_000_000) -> None:
        self.producer = producer
        self.max_message_bytes = max_message_bytes
        self._partitioner = DefaultPartitioner()

    async def publish(self, messages: Sequence[PendingMessage]) -> Published:
        never: dict[int, str] = {}
        by_partition: dict[tuple[str, int], list[PendingMessage]] = defaultdict(list)
        for topic in dict.fromkeys(m.topic for m in messages):
            partitions = await self._partitions(topic)
            for m in (m for m in messages if m.topic == topic):
                if partitions is None:
                    never[m.row_id] = f"unknown topic: {topic}"
                elif len(m.value) + len(m.key) > self.max_message_bytes:
                    never[m.row_id] = f"too large: {len(m.value)} bytes (limit {self.max_message_bytes})"
                else:
                    partition = self._partitioner(m.key.encode(), partitions, partitions)
                    by_partition[(topic, partition)].append(m)
        results = await asyncio.gather(*(self._send_in_order(tp, ms) for tp, ms in by_partition.items()))
        for rejected in results:
            never.update(rejected)
        return Published(never)

    async def _partitions(self, topic: str) -> list[int] | None:
        """The topic's partitions; None when the broker answers and does not know the topic."""
        known = self.producer.client.cluster.partitions_for_topic(topic)
        if not known:
            if not await self.producer.client.force_metadata_update():
                raise KafkaConnectionError("no metadata from the broker")
            known = self.producer.client.cluster.partitions_for_topic(topic)
            if not known:
                try:
                    known = await asyncio.wait_for(self.producer.partitions_for(topic), timeout=5)
                except (TimeoutError, UnknownTopicOrPartitionError):
                    return None
        return sorted(known)

    async def _send_in_order(self, tp: tuple[str, int], messages: list[PendingMessage]) -> dict[int, str]:
        batches: list[tuple[Any, list[PendingMessage]]] = []
        for m in messages:
            if not batches or not _append(batches[-1][0], m):
                batches.append((self.producer.create_batch(), []))
                _append(batches[-1][0], m)
            batches[-1][1].append(m)
        rejected: dict[int, str] = {}
        for batch, members in batches:
            try:
                await (await self.producer.send_batch(batch, tp[0], partition=tp[1]))
            except (MessageSizeTooLargeError, RecordListTooLargeError, InvalidTopicError) as exc:
                rejected.update(await self._send_one_by_one(tp, members, exc))
        return rejected

    async def _send_one_by_one(
        self, tp: tuple[str, int], messages: list[PendingMessage], first: Exception
    ) -> dict[int, str]:
        """A batch the broker refused as a whole: find the messages it refuses on their own."""
        log.warning("kafka.batch_refused", topic=tp[0], partition=tp[1], error=repr(first))
        rejected: dict[int, str] = {}
        for m in messages:
            batch = self.producer.create_batch()
            _append(batch, m)
            try:
                await (await self.producer.send_batch(batch, tp[0], partition=tp[1]))
            except (MessageSizeTooLargeError, RecordListTooLargeError, InvalidTopicError) as exc:
                rejected[m.row_id] = f"refused by the broker: {type(exc).__name__}"
        return rejected


def _append(batch: Any, m: PendingMessage) -> bool:
    headers = [(k, str(v).encode()) for k, v in m.headers.items()]
    return batch.append(key=m.key.encode(), value=m.value, timestamp=None, headers=headers) is not None
