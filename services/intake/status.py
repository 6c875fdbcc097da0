"""A complaint's resident-facing status: the small state machine and what residents are told.

    received ──whistle.issued──▶ dispatched ──assignment.signed_off──▶ in_progress
        ▲                            │                                     │
        │                            └──────────whistle.completed──────────┴──▶ resolved
    reopened ◀──follow-up: unresolved or unsatisfied── resolved (or closed*) ──satisfied──▶ closed

Dispatch events may arrive late or twice, so within a round the status only moves forward
(received/reopened → dispatched → in_progress → resolved). A follow-up call decides the end of a
round: closed, or reopened for a new round. (*) A closed matter is reopened only when a resident
whose complaint was merged into it is not satisfied: the matter is theirs too.
"""

from __future__ import annotations

from typing import Literal

from shared.errors import Conflict

Status = Literal["received", "dispatched", "in_progress", "resolved", "closed", "reopened"]
STATUSES: tuple[Status, ...] = ("received", "dispatched", "in_progress", "resolved", "closed", "reopened")
OPEN_STATUSES: frozenset[str] = frozenset({"received", "dispatched", "in_progress", "reopened"})

_STAGE = {"received": 0, "reopened": 0, "dispatched": 1, "in_progress": 2, "resolved": 3, "closed": 4}

STATUS_AFTER: dict[str, Status] = {
    "whistle.issued": "dispatched",
    "assignment.signed_off": "in_progress",
    "whistle.completed": "resolved",
}


def next_status(current: str, event_type: str) -> Status | None:
    """The new status after a dispatch event, or None when it does not move the complaint forward."""
    target = STATUS_AFTER.get(event_type)
    if target is None or current == "closed" or _STAGE[target] <= _STAGE.get(current, 0):
        return None
    return target


def is_open(status: str) -> bool:
    """Still being handled (a duplicate may be merged into it)."""
    return status in OPEN_STATUSES


def needs_another_round(*, resolved: bool, satisfaction: str) -> bool:
    """The follow-up call's verdict: unresolved or unsatisfied reopens the complaint."""
    return not resolved or satisfaction == "unsatisfied"


def after_feedback(current: str, *, resolved: bool, satisfaction: str) -> Status:
    """Closed or reopened; only a resolved complaint can be followed up."""
    if current != "resolved":
        raise Conflict(f"a follow-up result can only be recorded for a resolved complaint (it is {current})")
    return "reopened" if needs_another_round(resolved=resolved, satisfaction=satisfaction) else "closed"


def can_reopen_matter(status: str) -> bool:
    """Whether a merged resident's dissatisfaction reopens the matter (it is not being handled now)."""
    return status in ("resolved", "closed")


def open311_status(status: str) -> Literal["open", "closed"]:
    """Open311 knows two states: the city has finished (resolved, closed) or not."""
    return "closed" if status in ("resolved", "closed") else "open"


def open311_statuses(wanted: Literal["open", "closed"]) -> tuple[str, ...]:
    return tuple(s for s in STATUSES if open311_status(s) == wanted)


def resident_note(status: str, unit_name: str | None = None, *, detail: str = "") -> str:
    """What the resident is told about a status (Chinese, as the hotline reads it out)."""
    unit = unit_name or "承办单位"
    notes = {
        "received": "您的诉求已受理",
        "dispatched": f"已派至{unit}办理",
        "in_progress": f"{unit}已签收，正在办理",
        "resolved": f"{unit}已办结，等待回访",
        "closed": "回访完毕，诉求已办结",
        "reopened": "回访未解决或不满意，诉求已重新派办",
    }
    note = notes.get(status, status)
    return f"{note}（{detail}）" if detail else note
