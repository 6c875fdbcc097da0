"""A consumer round's pure part: what it decodes, skips and dead-letters before any transaction."""

from __future__ import annotations

from aiokafka.structs import ConsumerRecord, TopicPartition

from shared.consumer import ConsumerSpec, EventConsumer
from shared.events import Envelope, RegistryChanged, envelope_for

TP = TopicPartition("t", 0)


def create_record(value: bytes, offset: int = 7) -> ConsumerRecord:
    return ConsumerRecord("t", 0, offset, 0, 0, b"c", value, None, 1, len(value), ())


def create_consumer(**spec: object) -> EventConsumer:
    def no_database() -> None:
        raise AssertionError("this round must not open a transaction")

    async def handler(*_: object) -> None:
        raise AssertionError("this event must not be handled")

    return EventConsumer(
        ConsumerSpec(
            group="g", topics=["t"], handlers=spec.pop("handlers", {"clock.started": handler}), **spec
        ),  # type: ignore[arg-type]
        service="test",
        bootstrap_servers="unused",
        sessions=no_database,  # type: ignore[arg-type]
        inbox=None,  # type: ignore[arg-type]
        dlq_producer=None,  # type: ignore[arg-type]
    )


async def test_an_event_the_consumer_does_not_want_is_skipped_without_a_transaction() -> None:
    consumer = create_consumer(wants=lambda e: e.payload.get("stage") == "resolve")
    value = Envelope(type="clock.started", producer="sla", correlation_id="c", payload={"stage": "sign_off"})
    await consumer.handle({TP: [create_record(value.to_bytes())]}, started=0)
    assert consumer.book.position[TP] == 8  # done: its offset can be committed


def test_an_event_type_without_a_handler_is_skipped() -> None:
    other = envelope_for(RegistryChanged(snapshot_version=1), producer="p", correlation_id="c")
    delivery = create_consumer()._decode(TP, create_record(other.to_bytes()))
    assert delivery.handler is None and delivery.poison is None


def test_bytes_that_are_not_an_envelope_are_poison() -> None:
    delivery = create_consumer()._decode(TP, create_record(b"\xff not json"))
    assert delivery.reason == "undecodable" and delivery.poison is not None


def test_an_unknown_version_and_an_invalid_payload_are_poison() -> None:
    async def handler(*_: object) -> None:
        raise AssertionError

    consumer = create_consumer(handlers={"registry.changed": handler})
    base = envelope_for(RegistryChanged(snapshot_version=1), producer="p", correlation_id="c")
    future = base.model_copy(update={"version": 9})
    broken = base.model_copy(update={"payload": {"snapshot_version": "not a number"}})
    assert consumer._decode(TP, create_record(future.to_bytes())).reason == "unknown_version"
    assert consumer._decode(TP, create_record(broken.to_bytes())).reason == "invalid_payload"
