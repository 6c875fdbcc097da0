"""The dead-letter queues: read what is in `<topic>.dlq`, and send entries back to their source topic.

An entry is named by its place in the DLQ as `PARTITION:OFFSET` (or just `OFFSET` when that is
unambiguous). Redriving sends the original bytes, key and headers back to the topic they came from
(`x-source-topic`), marked with where they were redriven from; consumers record every event id in
their inbox, so an entry redriven twice, or an event that had in fact been applied, takes effect once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from shared.events import Envelope, dlq_topic
from shared.kafka import make_producer, read_from_start


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    timestamp: datetime
    key: bytes | None
    value: bytes
    headers: dict[str, str]

    @property
    def ref(self) -> str:
        return f"{self.partition}:{self.offset}"

    @property
    def source_topic(self) -> str:
        return self.headers.get("x-source-topic", "")

    @property
    def error(self) -> str:
        return self.headers.get("x-error", "")

    def envelope(self) -> Envelope | None:
        try:
            return Envelope.from_bytes(self.value)
        except Exception:
            return None


async def read_dead_letters(bootstrap: str, topic: str, *, within: float = 10) -> list[DeadLetter]:
    """Every entry of the topic's DLQ, oldest first per partition."""
    read = await read_from_start(bootstrap, [dlq_topic(topic)], quiet_seconds=0.5, within=within)
    found = [
        DeadLetter(
            partition=tp.partition,
            offset=r.offset,
            timestamp=datetime.fromtimestamp(r.timestamp / 1000, UTC),
            key=r.key,
            value=r.value,
            headers={k: v.decode(errors="replace") for k, v in r.headers},
        )
        for tp, records in read.items()
        for r in records
    ]
    return sorted(found, key=lambda d: (d.timestamp, d.partition, d.offset))


def select(entries: list[DeadLetter], refs: list[str] | None) -> list[DeadLetter]:
    """The entries named (all when `refs` is None); ValueError for a name that fits none or several."""
    if refs is None:
        return entries
    chosen: list[DeadLetter] = []
    for ref in refs:
        if ":" in ref:
            matches = [e for e in entries if e.ref == ref]
        else:
            matches = [e for e in entries if str(e.offset) == ref]
        if not matches:
            raise ValueError(f"no DLQ entry {ref}")
        if len(matches) > 1:
            raise ValueError(f"{ref} is ambiguous: name one of {', '.join(m.ref for m in matches)}")
        chosen.append(matches[0])
    return chosen


async def redrive(bootstrap: str, topic: str, entries: list[DeadLetter]) -> int:
    """Send the entries back to their source topics, in order; how many were sent."""
    producer: AIOKafkaProducer = make_producer(bootstrap, client_id="whistle-dlq")
    await producer.start()
    try:
        for entry in entries:
            headers = [(k, v.encode()) for k, v in entry.headers.items() if not k.startswith("x-")]
            headers.append(("x-redriven-from", f"{dlq_topic(topic)}/{entry.ref}".encode()))
            await producer.send_and_wait(
                entry.source_topic or topic, entry.value, key=entry.key, headers=headers
            )
        return len(entries)
    finally:
        await producer.stop()
