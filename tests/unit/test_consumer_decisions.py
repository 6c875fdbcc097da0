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
