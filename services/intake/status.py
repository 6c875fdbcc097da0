"""A complaint's resident-facing status, moved forward by dispatch events.

Events may arrive late or twice; the status only ever moves forward along the main path
(received → dispatched → in_progress → resolved → closed).
"""

from __future__ import annotations

ORDER = ("received", "dispatched", "in_progress", "resolved", "closed")
RANK = {status: i for i, status in enumerate(ORDER)}

STATUS_AFTER = {
    "whistle.issued": "dispatched",
    "assignment.signed_off": "in_progress",
    "whistle.completed": "resolved",
}


def next_status(current: str, event_type: str) -> str | None:
    """The new status after this event, or None when it does not move the complaint forward."""
    target = STATUS_AFTER.get(event_type)
    if target is None or RANK[target] <= RANK.get(current, 0):
        return None
    return target
