"""What the consumer loop does with a message that failed: the pure part, unit-tested alone."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from pydantic import ValidationError

from shared.events import UnknownEventVersion


class Action(enum.Enum):
    RETRY = "retry"
    DEAD_LETTER = "dead_letter"


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str


PERMANENT = (UnknownEventVersion, ValidationError, ValueError, UnicodeDecodeError)


def on_failure(error: BaseException, *, attempt: int, max_attempts: int) -> Decision:
    """A message that can never succeed goes to the DLQ at once; others are retried a few times.

    `attempt` counts from 1 and is the attempt that just failed.
    """
    if isinstance(error, PERMANENT):
        return Decision(Action.DEAD_LETTER, type(error).__name__)
    if attempt >= max_attempts:
        return Decision(Action.DEAD_LETTER, f"failed {attempt} times: {type(error).__name__}")
    return Decision(Action.RETRY, type(error).__name__)


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
