"""Extension requests (延期) and their rules (pure).

- A unit holding an open, signed-off order asks for more time: `working_days: N` (1–30) moves each
  affected running deadline N working days later on the city's work calendar, `until` sets it. One
  or the other, with a reason; `until` must lie ahead, and later than the deadline it would move.
- That deadline, as dispatch knows it: the resolve deadline of the SLA policy (for the complaint's
  urgency, in force when the whistle was issued) counted from when the assignment was queued, moved
  by the extensions approved for it before. SLA holds the clocks themselves and applies an approved
  extension to the assignment's running clocks (and, for the answering unit, the whistle's resolve
  clock); a breach that already happened stands.
- At most one request per assignment is pending at a time.
- The handling street (a street client of the whistle's street, with `queue:write`) or the district
  command centre (a district client of its district, with `extensions:approve`) approves or rejects
  it (`shared.access.may_decide_extension`); a street does not approve its own unit's request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.city import SlaPolicy
from shared.errors import Unprocessable
from shared.work_calendar import Duration, DurationUnit, WorkCalendar, due_at, parse_duration

MAX_WORKING_DAYS = 30
PENDING, APPROVED, REJECTED, LAPSED = "pending", "approved", "rejected", "lapsed"
"""Request statuses; `lapsed`: the assignment ended while the request was pending."""


@dataclass(frozen=True)
class Extension:
    working_days: int | None = None
    until: datetime | None = None


def moved(deadline: datetime, extension: Extension, calendar: WorkCalendar) -> datetime:
    """The deadline once an extension applies to it (an `until` never moves one earlier)."""
    if extension.working_days is not None:
        return due_at(deadline, Duration(extension.working_days, DurationUnit.WORKING_DAYS), calendar)
    assert extension.until is not None
    return max(deadline, extension.until)


def current_deadline(
    *, queued_at: datetime, policy: SlaPolicy, calendar: WorkCalendar, approved: Iterable[Extension]
) -> datetime:
    """The resolve deadline dispatch knows for an assignment: the policy's, moved by what was approved."""
    deadline = due_at(queued_at, parse_duration(policy.resolve), calendar)
    for extension in approved:
        deadline = moved(deadline, extension, calendar)
    return deadline


def check_request(
    *, working_days: int | None, until: datetime | None, reason: str, now: datetime, deadline: datetime
) -> Extension:
    """The extension asked for, or Unprocessable with every problem of the request at once."""
    errors: list[dict[str, Any]] = []
    if (working_days is None) == (until is None):
        errors.append(_error("body", "give either working_days or until", "one_of"))
    if working_days is not None and not 1 <= working_days <= MAX_WORKING_DAYS:
        errors.append(_error("body.working_days", f"between 1 and {MAX_WORKING_DAYS} working days", "range"))
    if until is not None:
        if until.tzinfo is None:
            errors.append(_error("body.until", "a time with its time zone", "timezone"))
        elif until <= now:
            errors.append(_error("body.until", "must lie ahead", "in_past"))
        elif until <= deadline:
            errors.append(
                _error(
                    "body.until",
                    f"must be later than the deadline it moves ({deadline.isoformat()})",
                    "earlier",
                )
            )
    if not reason.strip():
        errors.append(_error("body.reason", "say why more time is needed", "missing"))
    if errors:
        raise Unprocessable("The extension request is not valid.", errors=errors)
    return Extension(working_days=working_days, until=until)


def _error(field: str, message: str, type_: str) -> dict[str, Any]:
    return {"field": field, "message": message, "type": type_}
