"""The events dispatch writes about its rows (shapes only; the caller adds them to the outbox)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.dispatch.models import Assignment, Whistle
from shared.events import AssignmentQueued, AssignmentRef, Role


def assignment_fields(a: Assignment, *, at: datetime) -> dict[str, Any]:
    """The fields every assignment event carries (`shared.events.AssignmentEvent`)."""
    return {
        "whistle_id": a.whistle_id,
        "complaint_id": a.complaint_id,
        "assignment_id": a.id,
        "unit_code": a.unit_code,
        "department_code": a.department_code,
        "role": a.role,
        "at": at,
    }


def ref(a: Assignment) -> AssignmentRef:
    role: Role = a.role  # type: ignore[assignment]
    return AssignmentRef(
        assignment_id=a.id, unit_code=a.unit_code, department_code=a.department_code, role=role
    )


def queued(a: Assignment, whistle: Whistle) -> AssignmentQueued:
    """An assignment added to a whistle after it was issued."""
    return AssignmentQueued(
        **assignment_fields(a, at=a.queued_at),
        urgency=whistle.urgency,
        category=whistle.category,
    )
