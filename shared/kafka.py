"""Broker plumbing: producers, topic creation and the Kafka publisher used by the outbox relay."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.events import dlq_topic
from shared.logging import get_logger
from shared.messaging_tables import PendingMessage

log = get_logger(__name__)


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
    """Sends a batch and waits for every acknowledgement; raises if any send fails."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer

    async def publish(self, messages: Sequence[PendingMessage]) -> None:
        futures = [
            await self.producer.send(
                m.topic,
                m.value,
                key=m.key.encode(),
                headers=[(k, str(v).encode()) for k, v in m.headers.items()],
            )
            for m in messages
        ]
        await asyncio.gather(*futures)
