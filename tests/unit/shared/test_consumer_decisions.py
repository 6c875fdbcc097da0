"""The consumer's failure policy: which errors wait, which dead-letter, which are retried a few times."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from aiokafka.errors import KafkaConnectionError, NotLeaderForPartitionError, UnsupportedVersionError
from pydantic import ValidationError
from sqlalchemy import exc as sa_exc

from shared.consumer_decisions import Action, Kind, backoff_seconds, classify, dlq_headers, on_failure
from shared.errors import Rejected, Unavailable
from shared.events import ComplaintReceived, UndecodableEvent, UnknownEventVersion


def wrapped_by_sqlalchemy(error: Exception, *, invalidated: bool = False) -> sa_exc.DBAPIError:
    """What SQLAlchemy raises for a driver error: a DBAPIError whose `orig` carries the cause."""
    try:
        raise error
    except Exception as cause:
        wrapped = sa_exc.DBAPIError.instance(
            "SELECT 1", None, cause, Exception, connection_invalidated=invalidated
        )
        wrapped.__cause__ = cause
        return wrapped


def http_status(code: int) -> httpx.HTTPStatusError:
    request = httpx.Request("GET", "http://registry/v1/snapshot")
    return httpx.HTTPStatusError("x", request=request, response=httpx.Response(code, request=request))


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError("database restarting"),
        TimeoutError("statement took too long to return a connection"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.exceptions.SerializationError("could not serialize access"),
        asyncpg.exceptions.DeadlockDetectedError("deadlock detected"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.exceptions.InterfaceError("connection is closed"),
        wrapped_by_sqlalchemy(asyncpg.exceptions.AdminShutdownError("terminating connection")),
        wrapped_by_sqlalchemy(RuntimeError("connection lost"), invalidated=True),
        sa_exc.TimeoutError("QueuePool limit reached"),
        KafkaConnectionError("broker unreachable"),
        NotLeaderForPartitionError(),
        httpx.ConnectError("registry down"),
        http_status(503),
        Unavailable("the registry snapshot is not loaded yet"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_dependency_that_is_away_pauses_and_is_never_given_up(error: Exception) -> None:
    assert classify(error) is Kind.TRANSIENT
    for attempt in (1, 5, 1000):
        assert on_failure(error, attempt=attempt, max_attempts=3).action is Action.PAUSE


def test_a_message_that_can_never_succeed_goes_to_the_dlq_at_once() -> None:
    with pytest.raises(ValidationError) as invalid:
        ComplaintReceived.model_validate({"complaint_id": 1})
    for error in (
        UndecodableEvent("not an event envelope"),
        UnknownEventVersion("complaint.received v9"),
        invalid.value,
        Rejected("no such assignment"),
    ):
        assert classify(error) is Kind.PERMANENT
        assert on_failure(error, attempt=1, max_attempts=5).action is Action.DEAD_LETTER


@pytest.mark.parametrize(
    "error",
    [
        KeyError("street"),
        ValueError("a bug"),
        wrapped_by_sqlalchemy(asyncpg.exceptions.UniqueViolationError("duplicate key")),
        http_status(404),
        UnsupportedVersionError(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_other_errors_are_retried_a_bounded_number_of_times_then_dead_lettered(error: Exception) -> None:
    assert classify(error) is Kind.UNKNOWN
    assert on_failure(error, attempt=1, max_attempts=3).action is Action.RETRY
    assert on_failure(error, attempt=2, max_attempts=3).action is Action.RETRY
    last = on_failure(error, attempt=3, max_attempts=3)
    assert last.action is Action.DEAD_LETTER
    assert "3 times" in last.reason


def test_a_transient_cause_inside_another_error_still_counts_as_transient() -> None:
    try:
        try:
            raise ConnectionResetError("peer reset")
        except ConnectionResetError as cause:
            raise RuntimeError("while handling the batch") from cause
    except RuntimeError as error:
        assert classify(error) is Kind.TRANSIENT


def test_backoff_is_exponential_and_capped() -> None:
    assert [backoff_seconds(n, base=0.5, ceiling=4) for n in range(0, 7)] == [0, 0.5, 1, 2, 4, 4, 4]


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
