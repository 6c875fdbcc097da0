"""A complaint's resident-facing status and timeline: the small state machine, the kinds of change
the timeline records, what residents are told, and how all of it reads in Open311 (pure).

    received ──whistle.issued──▶ dispatched ──assignment.signed_off/reported_in──▶ in_progress
        ▲                            │                                                 │
        │                            └──────────────whistle.completed──────────────────┴──▶ resolved
    reopened ◀──follow-up: unresolved or unsatisfied── resolved (or closed*) ──satisfied──▶ closed

Dispatch events may arrive late or twice, so within a round the status only moves forward
(received/reopened → dispatched → in_progress → resolved). A follow-up call decides the end of a
round: closed, or reopened for a new round. (*) A closed matter is reopened only when a resident
whose complaint was merged into it is not satisfied: the matter is theirs too.

Every timeline entry records one kind of change (`Kind`). Those a resident sees are the Open311
update stream (`servicerequestupdates`); each maps to an Open311 extended status:

    dispatched   ACTION_SCHEDULED            a unit has the matter (已派至X办理)
    signed_off   IN_PROGRESS                 the unit signed it off (X已签收，正在办理)
    reported_in  IN_PROGRESS                 the unit contacted the resident or is on site (已联系/已到场)
    rerouted     ACTION_SCHEDULED            the lead unit changed (已改派至X办理)
    resolved     FIXED                       reported back resolved          ┐
                 CLOSED                      partially resolved              │ the hotline's
                 NO_FURTHER_ACTION           cannot be resolved              │ follow-up call
                 NOT_COUNCILS_RESPONSIBILITY explained (解释说明: beyond      │ comes next
                                             the government's duties)        ┘
    closed       CLOSED                      the follow-up call closed it
    reopened     REOPEN                      the follow-up call reopened it (a new round)
    merged       DUPLICATE                   merged into an open complaint about the same matter
    unmerged     OPEN                        taken out of a merge, dispatched on its own

Not in the stream: `filed` (the request itself is the record) and the resident's own updates
(`resident_update`, `followup_requested`: never echoed back). INVESTIGATING and INTERNAL_REFERRAL
are never sent: nothing here is "being looked into" before a unit has it, and a re-route stays
inside the city (ACTION_SCHEDULED, still open). Escalations and extensions are internal: the first
is no resident-visible change, the second moves the request's `expected_datetime`.

What a client's update says (`servicerequestupdates` POST, any status accepted): OPEN or REOPEN
means "not fixed": on a resolved request it asks the hotline for a follow-up (回访), which then
closes or reopens it by the usual rules; it never reopens anything by itself. FIXED and CLOSED mean
"fixed" and every other status a comment: stored for the hotline, no change to the complaint.
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
    "assignment.reported_in": "in_progress",
    "whistle.completed": "resolved",
}

Kind = Literal[
    "filed",
    "dispatched",
    "signed_off",
    "reported_in",
    "rerouted",
    "resolved",
    "closed",
    "reopened",
    "merged",
    "unmerged",
    "resident_update",
    "followup_requested",
]

KIND_OF_STATUS: dict[str, Kind] = {
    "received": "filed",
    "dispatched": "dispatched",
    "in_progress": "signed_off",
    "resolved": "resolved",
    "closed": "closed",
    "reopened": "reopened",
}
"""The kind of an entry that records nothing but a move to this status (older entries, backfill)."""

RESIDENT_KINDS: frozenset[str] = frozenset({"resident_update", "followup_requested"})


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


# --- Open311 --------------------------------------------------------------------------------------


def open311_status(status: str) -> Literal["open", "closed"]:
    """Open311 knows two states: the city has finished (resolved, closed) or not."""
    return "closed" if status in ("resolved", "closed") else "open"


def open311_statuses(wanted: Literal["open", "closed"]) -> tuple[str, ...]:
    return tuple(s for s in STATUSES if open311_status(s) == wanted)


EXTENDED_STATUS: dict[str, str] = {
    "dispatched": "ACTION_SCHEDULED",
    "signed_off": "IN_PROGRESS",
    "reported_in": "IN_PROGRESS",
    "rerouted": "ACTION_SCHEDULED",
    "resolved": "FIXED",
    "closed": "CLOSED",
    "reopened": "REOPEN",
    "merged": "DUPLICATE",
    "unmerged": "OPEN",
}
RESULT_STATUS: dict[str, str] = {
    "resolved": "FIXED",
    "partially_resolved": "CLOSED",
    "unresolvable": "NO_FURTHER_ACTION",
    "explained": "NOT_COUNCILS_RESPONSIBILITY",
}
STREAMED_KINDS: tuple[str, ...] = tuple(EXTENDED_STATUS)


def extended_status(kind: str, result: str | None = None) -> str | None:
    """The Open311 extended status of a timeline entry, or None when it is not in the update stream."""
    if kind == "resolved" and result:
        return RESULT_STATUS.get(result, "FIXED")
    return EXTENDED_STATUS.get(kind)


def external_status_code(kind: str, result: str | None = None) -> str:
    """Our own name of the change, for clients that keep it (`resolved:explained`)."""
    return f"{kind}:{result}" if kind == "resolved" and result else kind


ResidentSays = Literal["not_fixed", "fixed", "comment"]
CLIENT_STATUSES: dict[str, ResidentSays] = {
    "OPEN": "not_fixed",
    "REOPEN": "not_fixed",
    "FIXED": "fixed",
    "CLOSED": "fixed",
    "IN_PROGRESS": "comment",
    "ACTION_SCHEDULED": "comment",
    "INVESTIGATING": "comment",
    "DUPLICATE": "comment",
    "NOT_COUNCILS_RESPONSIBILITY": "comment",
    "NO_FURTHER_ACTION": "comment",
    "INTERNAL_REFERRAL": "comment",
}


def normalise_client_status(sent: str | None) -> str:
    """A status as clients spell it (`open`, `in progress`, `IN_PROGRESS`) in one form; none: COMMENT."""
    cleaned = "_".join((sent or "").strip().upper().replace("-", " ").split())
    return cleaned or "COMMENT"


def resident_says(sent: str | None) -> ResidentSays:
    """What a client's update status means here; statuses we do not know are comments."""
    return CLIENT_STATUSES.get(normalise_client_status(sent), "comment")


def asks_for_followup(says: ResidentSays, complaint_status: str) -> bool:
    """ "Not fixed" on a resolved complaint asks the hotline to follow it up; anything else is a comment."""
    return says == "not_fixed" and complaint_status == "resolved"


# --- what residents are told ----------------------------------------------------------------------


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


def reported_in_note(how: str, unit_name: str | None) -> str:
    unit = unit_name or "承办单位"
    return f"{unit}已到场，正在办理" if how == "on_site" else f"{unit}已联系您，正在办理"


def rerouted_note(unit_name: str | None) -> str:
    return f"已改派至{unit_name or '承办单位'}办理"


def resolved_note(result: str, unit_name: str | None) -> str:
    unit = unit_name or "承办单位"
    notes = {
        "partially_resolved": f"{unit}已部分解决，等待回访",
        "unresolvable": f"{unit}反馈暂无法解决，等待回访",
        "explained": f"{unit}已作解释说明，等待回访",
    }
    return notes.get(result, resident_note("resolved", unit_name))


RESIDENT_NOTES: dict[str, str] = {
    "not_fixed": "市民反映问题仍未解决，等待回访",
    "fixed": "市民反馈问题已解决",
    "comment": "市民补充了情况",
}


def resident_update_note(says: ResidentSays, *, followup: bool) -> str:
    """The timeline's note of a resident's own update (never the resident's text)."""
    if says == "not_fixed" and not followup:
        return "市民反映问题仍未解决"
    return RESIDENT_NOTES[says]
