from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.consumer_decisions import Action, dlq_headers, on_failure
from shared.events import ComplaintReceived, UnknownEventVersion


def test_unknown_version_goes_to_dlq_at_once() -> None:
    decision = on_failure(UnknownEventVersion("complaint.received v9"), attempt=1, max_attempts=5)
    assert decision.action is Action.DEAD_LETTER


def test_invalid_payload_goes_to_dlq_at_once() -> None:
    with pytest.raises(ValidationError) as caught:
        ComplaintReceived.model_validate({"complaint_id": 1})
    assert on_failure(caught.value, attempt=1, max_attempts=5).action is Action.DEAD_LETTER


def test_transient_error_is_retried_until_the_last_attempt() -> None:
    error = ConnectionError("db restarting")
    assert on_failure(error, attempt=1, max_attempts=3).action is Action.RETRY
    assert on_failure(error, attempt=2, max_attempts=3).action is Action.RETRY
    last = on_failure(error, attempt=3, max_attempts=3)
    assert last.action is Action.DEAD_LETTER
    assert "3 times" in last.reason


def test_dlq_headers_carry_error_and_source_position() -> None:
    headers = dict(
        dlq_headers(error="boom", topic="intake.complaints", partition=2, offset=41, group="dispatch")
    )
    assert headers == {
        "x-error": b"boom",
        "x-source-topic": b"intake.complaints",
        "x-source-partition": b"2",
        "x-source-offset": b"41",
        "x-consumer-group": b"dispatch",
    }


async def test_event_the_consumer_does_not_want_is_skipped_without_a_transaction() -> None:
    from aiokafka.structs import ConsumerRecord

    from shared.consumer import ConsumerSpec, EventConsumer
    from shared.events import Envelope

    def no_database() -> None:
        raise AssertionError("a skipped event must not open a transaction")

    async def handler(*_: object) -> None:
        raise AssertionError("a skipped event must not be handled")

    spec = ConsumerSpec(
        group="g",
        topics=["t"],
        handlers={"clock.started": handler},
        wants=lambda e: e.payload.get("stage") == "resolve",
    )
    consumer = EventConsumer(
        spec,
        service="test",
        bootstrap_servers="unused",
        sessions=no_database,  # type: ignore[arg-type]
        inbox=None,
        dlq_producer=None,
    )  # type: ignore[arg-type]
    value = Envelope(type="clock.started", producer="sla", correlation_id="c", payload={"stage": "sign_off"})
    record = ConsumerRecord("t", 0, 7, 0, 0, b"c", value.to_bytes(), None, 1, 1, ())
    assert await consumer.process(record) == "skipped"
