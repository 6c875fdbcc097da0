"""Driving an `EventConsumer` against the real servers in tests: events, handlers, topic readers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncSession

from shared.consumer import ConsumerSpec, ConsumerTuning, EventConsumer
from shared.events import Envelope, RegistryChanged, envelope_for
from tests.builders import read_topics

FAST = ConsumerTuning(
    max_attempts=3,
    retry_base_seconds=0.05,
    retry_max_seconds=0.5,
    fetch_wait_ms=50,
    poll_timeout_ms=200,
    session_timeout_ms=6000,
    heartbeat_interval_ms=500,
)


def create_event(version: int = 1, *, correlation_id: str = "c1") -> Envelope:
    return envelope_for(
        RegistryChanged(snapshot_version=version), producer="test", correlation_id=correlation_id
    )


def recording_handler(
    playground: Any, *, fail_times: int = 0, error: Callable[[], Exception] = lambda: RuntimeError("bug")
) -> Callable[..., Awaitable[None]]:
    """Writes one effect row per event; the first `fail_times` calls fail after writing it."""
    failures = {"left": fail_times}

    async def handle(session: AsyncSession, payload: RegistryChanged, envelope: Envelope) -> None:
        await session.execute(
            playground.effects.insert().values(
                event_id=str(envelope.event_id), note=f"v{payload.snapshot_version}"
            )
        )
        if failures["left"] > 0:
            failures["left"] -= 1
            raise error()  # after the insert: the rollback must undo it

    return handle


def make_consumer(
    playground: Any,
    producer: Any,
    handler: Callable[..., Awaitable[None]],
    *,
    group: str = "g",
    tuning: ConsumerTuning = FAST,
    bootstrap: str | None = None,
    prepare: Any = None,
) -> EventConsumer:
    spec = ConsumerSpec(
        group=group, topics=[playground.topic], handlers={"registry.changed": handler}, prepare=prepare
    )
    return EventConsumer(
        spec,
        service="test",
        bootstrap_servers=bootstrap or playground.bootstrap,
        sessions=playground.sessions,
        inbox=playground.tables.inbox,
        dlq_producer=producer,
        tuning=tuning,
    )


class Running:
    """A consumer's `run` as a task, stopped at the end of an `async with`."""

    def __init__(self, consumer: EventConsumer) -> None:
        self.consumer = consumer
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Running:
        self.task = asyncio.create_task(self.consumer.run(self.stop))
        return self

    async def __aexit__(self, *_: object) -> None:
        self.stop.set()
        assert self.task is not None
        await asyncio.wait_for(self.task, 30)


async def until(probe: Callable[[], Awaitable[bool]], *, seconds: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await probe():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {seconds}s")
        await asyncio.sleep(0.1)


async def send(producer: Any, topic: str, value: bytes, key: bytes = b"c1") -> None:
    await producer.send_and_wait(topic, value, key=key)


async def read_all(bootstrap: str, topic: str, *, seconds: float = 3) -> list[ConsumerRecord]:
    """Every record of a topic (stops once a poll after the first records finds nothing new)."""
    return await read_topics(bootstrap, topic, seconds=seconds, quiet_polls=1)
