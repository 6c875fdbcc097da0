"""What the consumer loop does with a message that failed: the pure part, unit-tested alone.

Errors are classified, never guessed at:

- **transient** — the database, the broker or the registry is away or busy (connections refused or
  cut, timeouts, PostgreSQL shutting down, starting, out of resources, a serialization failure or a
  deadlock, a retriable broker error, the registry unreachable or answering 5xx, `Unavailable`).
  The partition is paused and retried with capped exponential back-off, for ever: the message is
  not at fault and nothing is committed past it.
- **permanent** — the message can never succeed (undecodable, an unknown event version, a payload
  that fails validation, a handler raising `Rejected`). It goes to the DLQ at once and its
  partition keeps flowing.
- **unknown** — anything else (a bug, a constraint the data breaks). Retried `max_attempts` times,
  then dead-lettered, so one bad message cannot stop a partition for ever; `whistle dlq redrive`
  brings it back after the fix.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass

import asyncpg
import httpx
from aiokafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError
from pydantic import ValidationError
from sqlalchemy import exc as sa_exc

from shared.errors import Rejected, Unavailable
from shared.events import UndecodableEvent, UnknownEventVersion


class Kind(enum.Enum):
    TRANSIENT = "transient"
    PERMANENT = "permanent"
    UNKNOWN = "unknown"


class Action(enum.Enum):
    PAUSE = "pause"  # transient: pause the partition, retry after a back-off, never give up
    RETRY = "retry"  # unknown: retry after a back-off, a bounded number of times
    DEAD_LETTER = "dead_letter"


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str


PERMANENT = (UndecodableEvent, UnknownEventVersion, ValidationError, UnicodeDecodeError, Rejected)
TRANSIENT = (
    OSError,
    asyncpg.PostgresConnectionError,
    KafkaConnectionError,
    KafkaTimeoutError,
    httpx.TransportError,
    Unavailable,
)

# PostgreSQL error classes and codes that say "try again later", not "this cannot work".
TRANSIENT_SQLSTATE_CLASSES = ("08", "53", "58")  # connection, insufficient resources, system error
TRANSIENT_SQLSTATES = {
    "40001",  # serialization_failure
    "40P01",  # deadlock_detected
    "55P03",  # lock_not_available
    "57P01",  # admin_shutdown
    "57P02",  # crash_shutdown
    "57P03",  # cannot_connect_now
    "57P05",  # idle_session_timeout
    "25P03",  # idle_in_transaction_session_timeout
}


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, what it wraps (SQLAlchemy's `orig`) and what caused it."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [getattr(current, "orig", None), current.__cause__, current.__context__]


def _sqlstate(error: BaseException) -> str | None:
    state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    return state if isinstance(state, str) else None


def _is_transient_one(error: BaseException) -> bool:
    if isinstance(error, TRANSIENT):
        return True
    if isinstance(error, KafkaError):
        return bool(getattr(error, "retriable", False))
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code >= 500 or error.response.status_code == 429
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, sa_exc.TimeoutError | sa_exc.DisconnectionError):
        return True  # no pooled connection within the timeout / a connection found dead
    state = _sqlstate(error)
    if state is not None:
        return state in TRANSIENT_SQLSTATES or state[:2] in TRANSIENT_SQLSTATE_CLASSES
    # asyncpg's own connection-level errors (no SQLSTATE: the connection itself is gone)
    if isinstance(error, asyncpg.InterfaceError):
        return "connection" in str(error) and ("closed" in str(error) or "does not exist" in str(error))
    return False


def classify(error: BaseException) -> Kind:
    if isinstance(error, PERMANENT):
        return Kind.PERMANENT
    if any(_is_transient_one(e) for e in _chain(error)):
        return Kind.TRANSIENT
    return Kind.UNKNOWN


def on_failure(error: BaseException, *, attempt: int, max_attempts: int) -> Decision:
    """What to do after `attempt` (counting from 1) failed with `error`."""
    kind = classify(error)
    name = type(error).__name__
    if kind is Kind.TRANSIENT:
        return Decision(Action.PAUSE, f"transient: {name}")
    if kind is Kind.PERMANENT:
        return Decision(Action.DEAD_LETTER, name)
    if attempt >= max_attempts:
        return Decision(Action.DEAD_LETTER, f"failed {attempt} times: {name}")
    return Decision(Action.RETRY, name)


def backoff_seconds(failures: int, *, base: float, ceiling: float) -> float:
    """Capped exponential back-off after `failures` consecutive failures (1 → base)."""
    if failures <= 0:
        return 0.0
    return min(ceiling, base * 2 ** min(failures - 1, 30))


def dlq_headers(
    *, error: str, topic: str, partition: int, offset: int, group: str
) -> list[tuple[str, bytes]]:
    return [
        ("x-error", error[:1000].encode()),
        ("x-source-topic", topic.encode()),
        ("x-source-partition", str(partition).encode()),
        ("x-source-offset", str(offset).encode()),
        ("x-consumer-group", group.encode()),
    ]
